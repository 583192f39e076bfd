// bench/results/report.md and the cold-start chart (SVG, drawn here without a browser), both made
// from the scenario results alone, so they can be rebuilt from the committed JSON.
import type { ScenarioResult, Timeline } from './scenario.js';

export interface RunInfo {
  readonly command: string;
  readonly startedAt: string;
  readonly durationS: number;
  readonly machine: string;
  readonly data: string;
}

function markdownTable(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const esc = (v: string | number) => String(v).replaceAll('|', '\\|');
  return [
    `| ${header.map(esc).join(' | ')} |`,
    `|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
    ...rows.map((row) => `| ${row.map(esc).join(' | ')} |`),
  ].join('\n');
}

const MET = { true: 'met', false: '**missed**', null: 'n/a' } as const;

export function renderReport(info: RunInfo, results: readonly ScenarioResult[], chartFile?: string): string {
  const out = [
    '# mokakbab bench report',
    '',
    `Command: \`${info.command}\` · started ${info.startedAt} · ${Math.round(info.durationS)} s · ${info.machine}`,
    '',
    `Data: ${info.data}`,
    '',
    'Every figure compares arms of the same run, alternating (ABAB...); medians with the range over rounds in parentheses.',
    '',
  ];
  const goals = results.flatMap((r) =>
    r.goals.map((g) => [r.scenario, g.name, g.target, g.value, MET[String(g.met) as keyof typeof MET]]),
  );
  if (goals.length > 0) out.push('## Goals', '', markdownTable(['scenario', 'goal', 'target', 'value', ''], goals), '');
  for (const r of results) {
    out.push(`## ${r.title} (\`${r.scenario}\`)`, '', r.setup, '');
    if (r.ranWith) {
      const load = r.ranWith.loadAverage
        ? ` (1-minute load average ${r.ranWith.loadAverage[0]} at the start, ${r.ranWith.loadAverage[1]} at the end)`
        : '';
      out.push(`Measured by \`${r.ranWith.command}\` at ${r.ranWith.at}${load}.`, '');
    }
    if (r.timeline && chartFile) out.push(`![p99 and failed requests per ${r.timeline.bucketMs} ms](${chartFile})`, '');
    for (const t of r.tables) out.push(`**${t.caption}**`, '', markdownTable(t.header, t.rows), '');
  }
  return out.join('\n');
}

const COLORS = ['#d62728', '#1f77b4', '#2ca02c', '#9467bd', '#ff7f0e'];
const W = 960;
const H = 560;
const M = { left: 70, right: 250, top: 40, bottom: 50 };
const GAP = 40;

function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return ([1, 2, 5, 10].find((k) => k * p >= v) ?? 10) * p;
}

function escapeXml(s: string): string {
  return s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** Two panels on one time axis: p99 per bucket (lines) and failed requests per bucket (steps). */
export function renderChart(timeline: Timeline, title: string): string {
  const buckets = Math.max(...timeline.series.map((s) => s.p99Ms.length));
  const plotW = W - M.left - M.right;
  const topH = (H - M.top - M.bottom - GAP) * 0.65;
  const botH = H - M.top - M.bottom - GAP - topH;
  const botTop = M.top + topH + GAP;
  const maxP99 = niceMax(Math.max(...timeline.series.flatMap((s) => s.p99Ms.map((v) => v ?? 0))));
  const maxErr = niceMax(Math.max(1, ...timeline.series.flatMap((s) => s.errors)));
  const x = (b: number) => M.left + (b / buckets) * plotW;
  const yTop = (v: number) => M.top + topH - (v / maxP99) * topH;
  const yBot = (v: number) => botTop + botH - (v / maxErr) * botH;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${M.left}" y="22" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
  ];
  for (const [top, h, max, label] of [
    [M.top, topH, maxP99, 'p99 latency (ms)'],
    [botTop, botH, maxErr, `failed requests per ${timeline.bucketMs} ms`],
  ] as const) {
    for (let i = 0; i <= 4; i++) {
      const y = top + h - (i / 4) * h;
      parts.push(
        `<line x1="${M.left}" x2="${M.left + plotW}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`,
        `<text x="${M.left - 6}" y="${y + 4}" text-anchor="end">${+((max * i) / 4).toPrecision(3)}</text>`,
      );
    }
    parts.push(
      `<rect x="${M.left}" y="${top}" width="${plotW}" height="${h}" fill="none" stroke="#888"/>`,
      `<text transform="translate(18 ${top + h / 2}) rotate(-90)" text-anchor="middle">${escapeXml(label)}</text>`,
    );
  }
  const seconds = (buckets * timeline.bucketMs) / 1000;
  const step = seconds > 20 ? 5 : seconds > 5 ? 1 : 0.5;
  for (let s = 0; s <= seconds + 1e-9; s += step) {
    const px = M.left + ((s * 1000) / timeline.bucketMs / buckets) * plotW;
    parts.push(
      `<line x1="${px}" x2="${px}" y1="${botTop + botH}" y2="${botTop + botH + 5}" stroke="#888"/>`,
      `<text x="${px}" y="${botTop + botH + 18}" text-anchor="middle">${s}</text>`,
    );
  }
  parts.push(
    `<text x="${M.left + plotW / 2}" y="${H - 12}" text-anchor="middle">seconds since the burst started (by send time)</text>`,
  );
  timeline.series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]!;
    const segments: string[] = [];
    let current: string[] = [];
    s.p99Ms.forEach((v, b) => {
      if (v === null) {
        if (current.length) segments.push(current.join(' '));
        current = [];
      } else current.push(`${x(b + 0.5).toFixed(1)},${yTop(v).toFixed(1)}`);
    });
    if (current.length) segments.push(current.join(' '));
    for (const seg of segments)
      parts.push(`<polyline fill="none" stroke="${color}" stroke-width="1.8" points="${seg}"/>`);
    const steps = s.errors.map(
      (v, b) => `${x(b).toFixed(1)},${yBot(v).toFixed(1)} ${x(b + 1).toFixed(1)},${yBot(v).toFixed(1)}`,
    );
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${steps.join(' ')}"/>`);
    const ly = M.top + 10 + i * 22;
    parts.push(
      `<line x1="${W - M.right + 15}" x2="${W - M.right + 40}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="3"/>`,
      `<text x="${W - M.right + 46}" y="${ly + 4}">${escapeXml(s.arm)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}
