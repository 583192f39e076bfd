// infra/observability/ as the tests read it: the alerting rules, the Grafana dashboard's queries,
// and the metric families both refer to.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';

const ROOT = resolve(import.meta.dirname, '../..');
export const RULES_FILE = resolve(ROOT, 'infra/observability/rules.yaml');
export const RULES_TEST_FILE = resolve(ROOT, 'infra/observability/rules.test.yaml');
export const DASHBOARD_FILE = resolve(ROOT, 'infra/observability/dashboard.json');

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export function alertRules(): AlertRule[] {
  const doc = parse(readFileSync(RULES_FILE, 'utf8')) as { groups: { rules: AlertRule[] }[] };
  return doc.groups.flatMap((g) => g.rules);
}

export interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: { refId: string; expr: string; legendFormat?: string }[];
}

export interface Dashboard {
  uid: string;
  title: string;
  panels: DashboardPanel[];
  templating: { list: { name: string; type: string; query: unknown }[] };
}

export function dashboard(): Dashboard {
  return JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as Dashboard;
}

/** The dashboard's queries with Grafana's variables replaced as Grafana would for "all jobs". */
export function dashboardQueries(rateInterval = '1m'): { panel: string; expr: string }[] {
  return dashboard().panels.flatMap((p) =>
    (p.targets ?? []).map((t) => ({
      panel: p.title,
      expr: t.expr.replaceAll('$__rate_interval', rateInterval).replaceAll('$job', '.+'),
    })),
  );
}

const OUR_METRIC = /\b(?:db|jwt|http|warmer|nodejs)_[a-z0-9_]+/g;
const SERIES_SUFFIX = /_(?:bucket|count|sum)$/;

/** Metric family names (histogram suffixes removed) a PromQL expression reads. */
export function metricFamilies(expr: string): string[] {
  return [...new Set([...expr.matchAll(OUR_METRIC)].map(([name]) => name.replace(SERIES_SUFFIX, '')))];
}
