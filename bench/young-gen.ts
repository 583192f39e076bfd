// Micro-benchmark: the cost of the launcher's young-generation size under the cold-start burst's
// concurrency. Warm API processes side by side (services/api/run.sh as it is, run.sh with other
// --max-semi-space-size values through NODE_OPTIONS, and plain `node`, V8 sizing the heap from this
// machine), each hit by 600 connections at once on the participants page; arms rotate over 3 rounds
// after one unmeasured burst each. Prints req/s, p99, API CPU and GC per request, RSS.
//   tsx --conditions=source bench/young-gen.ts
// Bounded: 5-s bursts, 5 processes, about 3 minutes; everything is stopped in `finally`.
import { parseBenchArgs } from './lib/args.js';
import { openBenchDatabase } from './lib/database.js';
import { memoryBreakdown } from './lib/memory.js';
import { READ_ROUTES } from './lib/read-routes.js';
import { createContext, measureBurst } from './lib/scenario.js';
import type { ApiProcess } from './lib/api-process.js';
import { formatSpread, ratio, spread } from './lib/stats.js';

const CONNECTIONS = 600;
const BURST_S = 5;
// Five pools side by side stay under the bench server's max_connections (500).
const POOL_SIZE = '90';
const semi = (mb: number) => ({ NODE_OPTIONS: `--max-semi-space-size=${mb} --max-old-space-size=256` });
const ARMS: Record<string, { env: Record<string, string>; plainNode: boolean }> = {
  'run.sh': { env: {}, plainNode: false },
  'run.sh, semi-space 4 MB': { env: semi(4), plainNode: false },
  'run.sh, semi-space 8 MB': { env: semi(8), plainNode: false },
  'run.sh, semi-space 16 MB': { env: semi(16), plainNode: false },
  'plain node': { env: {}, plainNode: true },
};
const BASE = 'plain node';

const log = (line: string) => console.error(`[young-gen ${new Date().toISOString().slice(11, 19)}] ${line}`);
const args = parseBenchArgs([]);
const db = await openBenchDatabase(args.profile, log);
const apis: Record<string, ApiProcess> = {};
try {
  const ctx = createContext(args, db, 1, log);
  const tokens = await ctx.tokens();
  const [busiest] = await db.query<{ id: number }[]>(
    `SELECT article_id AS id FROM participation WHERE status = 'ACTIVE'
     GROUP BY article_id ORDER BY COUNT(*) DESC, article_id LIMIT 1`,
  );
  const path = READ_ROUTES.find((r) => r.name === 'participants page')!.path(busiest?.id ?? 1);
  for (const [arm, { env, plainNode }] of Object.entries(ARMS))
    apis[arm] = await ctx.startReady({ DB_POOL_SIZE: POOL_SIZE, ...env }, 'HS256', undefined, { plainNode });
  const burst = (arm: string, durationS: number, pids: Record<string, number>) =>
    measureBurst({ url: `${apis[arm]!.url}${path}`, connections: CONNECTIONS, durationS, bearerTokens: tokens }, pids);
  const gcSeconds = async (arm: string) =>
    Object.values((await memoryBreakdown(apis[arm]!.pid, apis[arm]!.adminUrl)).gcSeconds).reduce((a, b) => a + b, 0);
  for (const arm of Object.keys(ARMS)) await burst(arm, 2, {});
  const results = await ctx.alternate(Object.keys(ARMS), async (arm) => {
    const gcBefore = await gcSeconds(arm);
    const m = await burst(arm, BURST_S, { api: apis[arm]!.pid });
    const gcUs = ((await gcSeconds(arm)) - gcBefore) * 1e6;
    const memory = await memoryBreakdown(apis[arm]!.pid, apis[arm]!.adminUrl);
    const r = {
      rps: Math.round(m.rps),
      p99Ms: m.p99Ms,
      failed: m.errors,
      cpuUs: m.cpuUsPerRequest.api!,
      gcUs: Math.round(gcUs / Math.max(1, m.count)),
      rssMb: memory.rssMb,
    };
    log(`${arm}: ${JSON.stringify(r)}`);
    return r;
  });
  type Row = (typeof results)[string][number];
  const med = (arm: string, key: keyof Row) => spread(results[arm]!.map((r) => r[key])).median;
  const f = (arm: string, key: keyof Row, digits = 0) => formatSpread(spread(results[arm]!.map((r) => r[key])), digits);
  console.log(
    `${CONNECTIONS} connections at once for ${BURST_S} s per round, pool ${POOL_SIZE}, warm processes, 3 rounds; median (range)\n`,
  );
  console.log(
    '| arm | req/s | p99 ms | failed | API CPU µs/request | GC µs/request | RSS MB | req/s / plain | CPU / plain |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const arm of Object.keys(ARMS)) {
    console.log(
      `| ${arm} | ${f(arm, 'rps')} | ${f(arm, 'p99Ms')} | ${results[arm]!.reduce((n, r) => n + r.failed, 0)} | ${f(arm, 'cpuUs')} | ${f(arm, 'gcUs')} | ${f(arm, 'rssMb')} | ${ratio(med(arm, 'rps'), med(BASE, 'rps'))} | ${ratio(med(arm, 'cpuUs'), med(BASE, 'cpuUs'))} |`,
    );
  }
} finally {
  for (const api of Object.values(apis)) await api.stop();
  await db.close();
}
