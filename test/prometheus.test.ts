// A real Prometheus (Debian's /usr/bin/prometheus) scrapes a real API process and a real warmer
// on their metrics-only ports (METRICS_PORT, WARMER_METRICS_PORT) at a 1 s interval, loads infra/observability/rules.yaml, and answers over
// its HTTP API: the metrics arrive, every metric the rules and the dashboard read is exposed, and
// every rule and dashboard query evaluates without error.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { seededMember } from '@mokakbab/db';
import { createTestDatabase, type TestDatabase, getJson, waitFor } from '@mokakbab/testkit';
import { RULES_FILE, alertRules, dashboardQueries, metricFamilies } from './helpers/observability.js';
import { startApi, startWarmer, type ApiProcess, type WarmerProcess } from './helpers/processes.js';
import { uniqueSlotPrefix } from './helpers/slots.js';

const PROMETHEUS = '/usr/bin/prometheus';
const hasPrometheus = spawnSync(PROMETHEUS, ['--version'], { stdio: 'ignore' }).status === 0;
const inCi = process.env.CI === 'true';
const SCRAPE_INTERVAL = '1s';
const STOP_TIMEOUT_MS = 10_000;

test(
  'prometheus is available where the scrape must be checked',
  { skip: hasPrometheus || !inCi ? 'prometheus found, or not CI' : false },
  () => {
    assert.fail("CI needs /usr/bin/prometheus (Debian's prometheus package; .ci/run installs it)");
  },
);

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

interface PromResponse<T> {
  status: 'success' | 'error';
  data: T;
  error?: string;
}
type Vector = { metric: Record<string, string>; value: [number, string] }[];

describe(
  'a real Prometheus scraping the API and the warmer',
  { skip: hasPrometheus ? false : 'no /usr/bin/prometheus' },
  () => {
    let db: TestDatabase;
    let api: ApiProcess;
    let warmer: WarmerProcess;
    let prometheus: ChildProcess | undefined;
    let dir: string;
    let base: string;
    let promLog = '';

    const query = async <T = Vector>(expr: string) => {
      const url = `${base}/api/v1/query?query=${encodeURIComponent(expr)}`;
      const res = await getJson<PromResponse<T>>(url);
      assert.equal(res.body.status, 'success', `${expr}: ${res.body.error}`);
      return res.body.data as T & { resultType?: string; result?: Vector };
    };
    const vector = async (expr: string) => (await query<{ result: Vector }>(expr)).result ?? [];

    before(async () => {
      db = await createTestDatabase();
      await db.seed({ members: 3, articles: 3, participations: 3 });
      api = await startApi({ databaseUrl: db.url, env: { METRICS_HOST: '127.0.0.1', METRICS_PORT: '0' } });
      warmer = await startWarmer({
        DATABASE_URL: db.url.href,
        WARMER_TARGET: api.adminUrl,
        WARMER_TARGET_PUBLIC: api.url,
        WARM_SLOT_PREFIX: uniqueSlotPrefix(),
        WARMER_METRICS_PORT: '0',
      });
      assert.ok(api.metricsPort, 'the API logged its metrics port');
      assert.ok(warmer.metricsPort, 'the warmer logged its metrics port');

      dir = mkdtempSync(join(tmpdir(), 'mokakbab-prometheus-'));
      const port = await freePort();
      base = `http://127.0.0.1:${port}`;
      const config = {
        global: {
          scrape_interval: SCRAPE_INTERVAL,
          scrape_timeout: SCRAPE_INTERVAL,
          evaluation_interval: SCRAPE_INTERVAL,
        },
        rule_files: [RULES_FILE],
        scrape_configs: [
          { job_name: 'api', static_configs: [{ targets: [`127.0.0.1:${api.metricsPort}`] }] },
          { job_name: 'warmer', static_configs: [{ targets: [`127.0.0.1:${warmer.metricsPort}`] }] },
        ],
      };
      // JSON is YAML: no serializer needed for the config file.
      writeFileSync(join(dir, 'prometheus.yml'), JSON.stringify(config));
      prometheus = spawn(
        PROMETHEUS,
        [
          `--config.file=${join(dir, 'prometheus.yml')}`,
          `--storage.tsdb.path=${join(dir, 'data')}`,
          `--web.listen-address=127.0.0.1:${port}`,
          '--storage.tsdb.retention.time=1h',
          '--log.level=warn',
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      prometheus.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
        promLog = (promLog + chunk).slice(-4_000);
      });
      await waitFor(
        'Prometheus ready',
        async () => {
          assert.equal(prometheus!.exitCode, null, `prometheus exited:\n${promLog}`);
          return (await fetch(`${base}/-/ready`)).ok ? true : undefined;
        },
        30_000,
      );
    });

    after(async () => {
      if (prometheus && prometheus.exitCode === null && prometheus.signalCode === null) {
        const exited = once(prometheus, 'exit');
        prometheus.kill('SIGTERM');
        const timer = setTimeout(() => prometheus!.kill('SIGKILL'), STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
      }
      if (dir) rmSync(dir, { recursive: true, force: true });
      await warmer?.stop();
      await api?.stop();
      await db?.close();
    });

    test('both targets are up and the API, pool, JWT and warmer metrics arrive', async () => {
      await waitFor('the warmer ready', async () => ((await warmer.ready()).status === 200 ? true : undefined), 60_000);
      // Traffic for the request and JWT series: a sign-in, then the same token three times.
      const signIn = await fetch(`${api.url}/auth/sign-in`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(seededMember(1)),
      });
      assert.equal(signIn.status, 200);
      const { accessToken } = (await signIn.json()) as { accessToken: string };
      const participants = async () => {
        for (let i = 0; i < 3; i++) {
          const res = await fetch(`${api.url}/participations/articles/1`, {
            headers: { authorization: `Bearer ${accessToken}` },
          });
          assert.equal(res.status, 200);
        }
      };
      await participants();

      await waitFor(
        'both targets up',
        async () => ((await vector('sum(up{job=~"api|warmer"})'))[0]?.value[1] === '2' ? true : undefined),
        20_000,
      ).catch(async (err: Error) => {
        const targets = await getJson(`${base}/api/v1/targets`);
        throw new Error(`${err.message}: ${JSON.stringify(targets.body)}`);
      });
      const expectations: [string, (v: number) => boolean][] = [
        ['db_pool_warm{job="api"}', (v) => v === 1],
        ['db_pool_target_connections{job="api"}', (v) => v > 0],
        ['db_pool_total_connections{job="api"}', (v) => v > 0],
        ['jwt_cache_hits_total{job="api"}', (v) => v >= 2],
        ['jwt_cache_misses_total{job="api"}', (v) => v >= 1],
        [
          'sum(http_request_duration_seconds_count{job="api",route="/participations/articles/:articleId"})',
          (v) => v >= 3,
        ],
        ['warmer_ready{job="warmer"}', (v) => v === 1],
        ['warmer_warm_duration_seconds_count{job="warmer"}', (v) => v >= 1],
        ['warmer_process_cpu_seconds_total{job="warmer"}', (v) => v > 0],
      ];
      for (const [expr, ok] of expectations) {
        await waitFor(
          expr,
          async () => {
            const [sample] = await vector(expr);
            return sample && ok(Number(sample.value[1])) ? true : undefined;
          },
          20_000,
        );
      }
      assert.deepEqual(await vector('count({__name__=~"warmer_process_(process|nodejs)_.+"})'), []);
      // What Prometheus may reach is metrics only: the admin and status endpoints are not there.
      for (const url of [`http://127.0.0.1:${api.metricsPort}/pool`, `http://127.0.0.1:${warmer.metricsPort}/status`]) {
        assert.equal((await fetch(url)).status, 404, url);
      }
      // More requests once the series exist, so a rate() over them is not zero.
      await participants();
    });

    test('every metric the rules and the dashboard read is exposed by the API or the warmer', async () => {
      const read = new Set([...alertRules(), ...dashboardQueries()].flatMap((r) => metricFamilies(r.expr)));
      // Families come from the targets' # TYPE lines, so a labelled counter no request has touched yet counts.
      const exposed = await waitFor('target metadata', async () => {
        const res = await getJson<PromResponse<{ metric: string }[]>>(`${base}/api/v1/targets/metadata`);
        const names = new Set((res.body.data ?? []).map((m) => m.metric));
        return names.has('db_pool_warm') && names.has('warmer_ready') ? names : undefined;
      });
      assert.deepEqual([...read].filter((name) => !exposed.has(name)).sort(), []);
    });

    test('every rule is loaded and evaluates without error', async () => {
      const rules = alertRules();
      type Rule = { name: string; health: string; lastError?: string; lastEvaluation: string };
      const loaded = await waitFor('every rule evaluated', async () => {
        const res = await getJson<PromResponse<{ groups: { rules: Rule[] }[] }>>(`${base}/api/v1/rules`);
        const all = res.body.data.groups.flatMap((g) => g.rules);
        return all.length === rules.length && all.every((r) => !r.lastEvaluation.startsWith('0001')) ? all : undefined;
      });
      for (const rule of loaded) assert.equal(rule.health, 'ok', `${rule.name}: ${rule.lastError}`);
      for (const rule of rules) await query(rule.expr);
    });

    test('every dashboard query evaluates without error', async () => {
      const queries = dashboardQueries();
      assert.ok(queries.length > 10);
      for (const { expr } of queries) await query(expr);
      // A panel that must show data now: p99 per route, from the requests above.
      const p99 =
        'histogram_quantile(0.99, sum by (route, le) (rate(http_request_duration_seconds_bucket{job="api",route="/participations/articles/:articleId"}[1m])))';
      const seconds = await waitFor(
        'a p99 for the participant list',
        async () => {
          const value = Number((await vector(p99))[0]?.value[1]);
          return Number.isFinite(value) ? value : undefined;
        },
        20_000,
      );
      assert.ok(seconds > 0 && seconds <= 10, `p99 ${seconds} s lies within the histogram's buckets`);
    });
  },
);
