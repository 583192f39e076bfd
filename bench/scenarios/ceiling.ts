// ceiling: each read route of the API against the same SQL through a bare mysql2 pool of the same
// size in a tiny node:http server (bench/servers/bare.ts), same client. Throughput closed-loop, then
// CPU per request at a fixed open-loop rate both carry (half the slower one's throughput).
import { startApi, type ApiProcess } from '../lib/api-process.js';
import { cpuMeter } from '../lib/cpu.js';
import { openLoop } from '../lib/load.js';
import { READ_ROUTES, type ReadRoute } from '../lib/read-routes.js';
import { goal, measureClosed, type Context, type Goal, type ScenarioResult } from '../lib/scenario.js';
import { formatSpread, percentile, ratio, spread } from '../lib/stats.js';

const POOL_SIZE = 50;
const CONNECTIONS = 50;
const WARMUP_S = 1;
const ARMS = ['api', 'bare'] as const;

export async function ceiling(ctx: Context): Promise<ScenarioResult> {
  const { profile, rounds } = ctx.args;
  const tokens = await ctx.tokens();
  const api = await ctx.startReady({ DB_POOL_SIZE: String(POOL_SIZE) });
  let bare: ApiProcess | undefined;
  try {
    bare = await startApi(ctx.apiEnv({ DB_POOL_SIZE: String(POOL_SIZE) }), 'bench/servers/bare.ts');
    const servers = { api, bare };
    const rows: (string | number)[][] = [];
    const cpuRows: (string | number)[][] = [];
    const goals: Goal[] = [];
    const raw: Record<string, unknown> = {};
    for (const route of READ_ROUTES) {
      const url = (arm: (typeof ARMS)[number]) => `${servers[arm].url}${route.path(ctx.articleId)}`;
      const bearerTokens = route.auth ? tokens : undefined;
      for (const arm of ARMS)
        await measureClosed({ url: url(arm), connections: CONNECTIONS, durationS: WARMUP_S, bearerTokens }, {});
      const closed = await ctx.alternate(ARMS, (arm) =>
        measureClosed(
          { url: url(arm), connections: CONNECTIONS, durationS: profile.roundS, bearerTokens },
          { server: servers[arm].pid },
        ),
      );
      const rps = (arm: (typeof ARMS)[number]) => spread(closed[arm].map((r) => r.rps));
      const rateRps = fixedRateFor(Math.min(rps('api').median, rps('bare').median));
      const fixed = await ctx.alternate(ARMS, (arm) =>
        fixedRate(servers[arm], ctx.db.server.pid, route, ctx.articleId, rateRps, profile.fixedRateS, tokens),
      );
      const cpu = (arm: (typeof ARMS)[number]) => spread(fixed[arm].map((r) => r.serverUsPerRequest));
      const throughputRatio = ratio(rps('api').median, rps('bare').median);
      const cpuRatio = ratio(cpu('api').median, cpu('bare').median);
      const errors = (arm: (typeof ARMS)[number]) =>
        closed[arm].reduce((n, r) => n + r.errors + (r.count - r.ok), 0) + fixed[arm].reduce((n, r) => n + r.failed, 0);
      rows.push([
        route.name,
        formatSpread(rps('api')),
        formatSpread(rps('bare')),
        throughputRatio ?? 'n/a',
        formatSpread(spread(closed.api.map((r) => r.p99Ms)), 1),
        formatSpread(spread(closed.bare.map((r) => r.p99Ms)), 1),
        `${errors('api')} / ${errors('bare')}`,
      ]);
      cpuRows.push([
        route.name,
        rateRps,
        formatSpread(cpu('api')),
        formatSpread(cpu('bare')),
        cpuRatio ?? 'n/a',
        formatSpread(spread(fixed.api.map((r) => r.dbUsPerRequest))),
        formatSpread(spread(fixed.api.map((r) => r.clientUsPerRequest))),
        formatSpread(spread(fixed.api.map((r) => r.p99Ms)), 1),
      ]);
      goals.push(goal(`${route.name}: API throughput / bare`, throughputRatio, '>=', 0.7));
      goals.push(goal(`${route.name}: API CPU per request / bare at ${rateRps} req/s`, cpuRatio, '<=', 1.5));
      raw[route.name] = {
        closed: Object.fromEntries(ARMS.map((arm) => [arm, closed[arm].map(({ samples: _s, ...r }) => r)])),
        fixedRateRps: rateRps,
        fixed,
      };
      ctx.log(`ceiling ${route.name}: api/bare throughput ${throughputRatio}, CPU/request ${cpuRatio}`);
    }
    return {
      scenario: 'ceiling',
      title: 'Ceiling: the API against the same SQL through a bare mysql2 pool',
      setup:
        `Pool ${POOL_SIZE} on both; throughput with ${CONNECTIONS} closed-loop connections for ${profile.roundS} s per round,` +
        ` then server CPU per request at a fixed open-loop rate (half the slower arm's throughput) for ${profile.fixedRateS} s;` +
        ` ${rounds} alternating rounds, median (range).`,
      tables: [
        {
          caption: 'Throughput (closed loop)',
          header: ['route', 'API req/s', 'bare req/s', 'API/bare', 'API p99 ms', 'bare p99 ms', 'failed API / bare'],
          rows,
        },
        {
          caption: 'CPU per request at a fixed rate',
          header: [
            'route',
            'rate req/s',
            'API CPU µs/req',
            'bare CPU µs/req',
            'API/bare',
            'DB CPU µs/req (API arm)',
            'client CPU µs/req',
            'API p99 ms',
          ],
          rows: cpuRows,
        },
      ],
      goals,
      rounds: raw,
    };
  } finally {
    await Promise.all([api.stop(), bare?.stop()]);
  }
}

/** Half the slower arm's throughput, rounded down to a round number, at least 5 req/s. */
export function fixedRateFor(slowerRps: number): number {
  const half = slowerRps / 2;
  const step = half >= 100 ? 50 : 5;
  return Math.max(5, Math.floor(half / step) * step);
}

interface FixedRound {
  readonly serverUsPerRequest: number;
  readonly dbUsPerRequest: number;
  readonly clientUsPerRequest: number;
  readonly p99Ms: number;
  readonly failed: number;
  readonly achievedRatePerS: number;
}

async function fixedRate(
  server: ApiProcess,
  dbPid: number,
  route: ReadRoute,
  articleId: number,
  ratePerS: number,
  durationS: number,
  tokens: readonly string[],
): Promise<FixedRound> {
  let next = 0;
  const path = route.path(articleId);
  const headerSets = tokens.map((t) => ({ authorization: `Bearer ${t}` }));
  const spent = cpuMeter({ server: server.pid, db: dbPid });
  const run = await openLoop({
    origin: server.url,
    ratePerS,
    durationS,
    connections: 64,
    next: () => ({
      route: route.name,
      method: 'GET',
      path,
      headers: route.auth ? headerSets[next++ % headerSets.length] : undefined,
    }),
  });
  const cpu = spent();
  const result = run.routes[route.name]!;
  const count = Math.max(1, result.samples.length);
  const ok = result.samples.filter((s) => s.status === 200);
  const perRequest = (ms: number) => Math.round((ms * 1000) / count);
  return {
    serverUsPerRequest: perRequest(cpu.byProcess.server!),
    dbUsPerRequest: perRequest(cpu.byProcess.db!),
    clientUsPerRequest: perRequest(cpu.clientMs),
    p99Ms:
      Math.round(
        percentile(
          ok.map((s) => s.latencyMs),
          99,
        ) * 10,
      ) / 10,
    failed: result.samples.length - ok.length,
    achievedRatePerS: run.achievedRatePerS,
  };
}
