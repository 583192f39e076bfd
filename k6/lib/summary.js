// @ts-check
// handleSummary for every scenario: the end-of-test summary as JSON (everything k6 measured) and
// as text (the same numbers, readable), written to RESULTS_DIR as <scenario>-<UTC time>.json/.txt,
// and the text on stdout (a handleSummary replaces k6's own summary). No remote jslib import: the
// scripts run offline.
import { envString } from './config.js';

/**
 * @typedef {{ type: 'trend' | 'rate' | 'counter' | 'gauge', contains?: string,
 *   values: Record<string, number>, thresholds?: Record<string, { ok: boolean }> }} SummaryMetric
 * @typedef {{ metrics: Record<string, SummaryMetric>, state?: { testRunDurationMs?: number } }} SummaryData
 */

/** Where the files go: relative to the directory k6 runs in (the repository root, or /scripts in Compose). */
export const RESULTS_DIR = envString('RESULTS_DIR', 'k6/results').replace(/\/+$/, '');

/**
 * @param {number} value
 * @param {SummaryMetric} metric
 * @returns {string}
 */
function formatValue(value, metric) {
  if (metric.contains === 'time') return value >= 1000 ? (value / 1000).toFixed(2) + 's' : value.toFixed(2) + 'ms';
  if (metric.contains === 'data') return value.toFixed(0) + 'B';
  return String(Math.round(value * 1000) / 1000);
}

const STAT_ORDER = ['avg', 'min', 'med', 'max'];

/**
 * Trend statistics in one order (k6's JSON comes from a Go map, in no order): avg, min, med, max,
 * then the percentiles ascending.
 * @param {string} a
 * @param {string} b
 * @returns {number}
 */
function byStat(a, b) {
  const rank = function (/** @type {string} */ stat) {
    const i = STAT_ORDER.indexOf(stat);
    return i >= 0 ? i - STAT_ORDER.length : parseFloat(stat.replace(/^p\(/, ''));
  };
  return rank(a) - rank(b);
}

/**
 * @param {string} name
 * @param {SummaryMetric} metric
 * @returns {string}
 */
function metricLine(name, metric) {
  const v = metric.values;
  let text;
  if (metric.type === 'trend') {
    text = Object.keys(v)
      .sort(byStat)
      .map(function (stat) {
        return stat + '=' + formatValue(v[stat] || 0, metric);
      })
      .join(' ');
  } else if (metric.type === 'rate') {
    text =
      ((v.rate || 0) * 100).toFixed(2) + '% (' + (v.passes || 0) + ' of ' + ((v.passes || 0) + (v.fails || 0)) + ')';
  } else if (metric.type === 'counter') {
    text = formatValue(v.count || 0, metric) + ' (' + (v.rate || 0).toFixed(2) + '/s)';
  } else {
    text = formatValue(v.value || 0, metric);
  }
  const thresholds = Object.keys(metric.thresholds || {}).map(function (expr) {
    return (metric.thresholds && metric.thresholds[expr].ok ? 'ok ' : 'FAILED ') + expr;
  });
  return '  ' + name + ': ' + text + (thresholds.length ? '  [' + thresholds.join(', ') + ']' : '');
}

/**
 * The summary as text: one line per metric, thresholds marked ok or FAILED.
 * @param {string} scenario
 * @param {SummaryData} data
 * @returns {string}
 */
export function summaryText(scenario, data) {
  const names = Object.keys(data.metrics).sort();
  const failed = names.filter(function (name) {
    const t = data.metrics[name].thresholds || {};
    return Object.keys(t).some(function (expr) {
      return !t[expr].ok;
    });
  });
  const durationS = ((data.state && data.state.testRunDurationMs) || 0) / 1000;
  return (
    scenario +
    ': ' +
    durationS.toFixed(1) +
    ' s, thresholds ' +
    (failed.length ? 'FAILED on ' + failed.join(', ') : 'all passed') +
    '\n' +
    names
      .map(function (name) {
        return metricLine(name, data.metrics[name]);
      })
      .join('\n') +
    '\n'
  );
}

/**
 * What handleSummary returns: stdout, and the JSON and text files of this run.
 * @param {string} scenario
 * @param {SummaryData} data
 * @returns {Record<string, string>}
 */
export function summaryFiles(scenario, data) {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const base = RESULTS_DIR + '/' + scenario + '-' + stamp;
  const text = summaryText(scenario, data);
  /** @type {Record<string, string>} */
  const files = { stdout: text };
  files[base + '.json'] = JSON.stringify(data, null, 2);
  files[base + '.txt'] = text;
  return files;
}
