// infra/observability/: promtool checks the alerting rules and runs their unit tests
// (rules.test.yaml); the Grafana dashboard is well-formed and every panel queries Prometheus.
// test/prometheus.test.ts runs the same expressions against a real Prometheus scraping real services.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import {
  RULES_FILE,
  RULES_TEST_FILE,
  alertRules,
  dashboard,
  dashboardQueries,
  metricFamilies,
} from './helpers/observability.js';

const hasPromtool = spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0;
const inCi = process.env.CI === 'true';

function promtool(...args: string[]): string {
  const run = spawnSync('promtool', args, { encoding: 'utf8', timeout: 60_000 });
  const output = `${run.stdout}${run.stderr}`;
  assert.equal(run.status, 0, `promtool ${args.join(' ')}:\n${output}`);
  return output;
}

test(
  'promtool is available where the rules must be checked',
  { skip: hasPromtool || !inCi ? 'promtool found, or not CI' : false },
  () => {
    assert.fail("CI needs promtool (Debian's prometheus package; .ci/run installs it)");
  },
);

describe('infra/observability/rules.yaml', { skip: hasPromtool ? false : 'promtool is not installed' }, () => {
  test('promtool check rules accepts every rule', () => {
    assert.match(promtool('check', 'rules', RULES_FILE), new RegExp(`SUCCESS: ${alertRules().length} rules found`));
  });

  test('promtool test rules: every alert fires on its case and not on its neighbour', () => {
    assert.match(promtool('test', 'rules', RULES_TEST_FILE), /SUCCESS/);
  });
});

describe('the alerts an operator needs during a burst', () => {
  const rules = alertRules();
  test('each alert exists, has a severity and a summary, and each has a unit test', () => {
    const tests = readFileSync(RULES_TEST_FILE, 'utf8');
    for (const name of [
      'MokakbabPoolExhausted',
      'MokakbabPoolRejecting',
      'MokakbabAcquireWaitP99High',
      'MokakbabReadinessFlapping',
      'MokakbabJwtCacheHitRatioCollapsed',
      'MokakbabConnectErrors',
    ]) {
      const rule = rules.find((r) => r.alert === name);
      assert.ok(rule, `${name} is defined`);
      assert.match(rule.labels?.severity ?? '', /^(warning|critical)$/, `${name} severity`);
      assert.ok(rule.annotations?.summary, `${name} summary`);
      assert.match(tests, new RegExp(`alertname: ${name}\\n`), `${name} has a promtool unit test`);
    }
  });
});

describe('infra/observability/dashboard.json', () => {
  const board = dashboard();
  test('panels have unique ids, a Prometheus datasource variable and at least one query', () => {
    assert.equal(board.uid, 'mokakbab');
    assert.ok(board.templating.list.some((v) => v.name === 'datasource' && v.type === 'datasource'));
    const ids = board.panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, 'unique panel ids');
    for (const panel of board.panels.filter((p) => p.type !== 'row')) {
      assert.equal(panel.datasource?.uid, '${datasource}', `${panel.title} uses the datasource variable`);
      assert.ok(panel.targets?.length, `${panel.title} has queries`);
    }
  });

  test('shows pool fill and waits, 503s by reason, p99 per route, JWT cache, readiness per pod, warm-ups', () => {
    const families = new Set(dashboardQueries().flatMap((q) => metricFamilies(q.expr)));
    for (const name of [
      'db_pool_busy_connections',
      'db_pool_target_connections',
      'db_pool_acquire_wait_seconds',
      'db_pool_rejections_total',
      'http_requests_rejected_total',
      'http_request_duration_seconds',
      'jwt_cache_hits_total',
      'jwt_cache_misses_total',
      'warmer_ready',
      'db_pool_warm',
      'db_pool_warm_duration_seconds',
      'warmer_warm_duration_seconds',
    ]) {
      assert.ok(families.has(name), `the dashboard queries ${name}`);
    }
  });
});
