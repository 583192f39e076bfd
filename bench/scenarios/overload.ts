// overload: useful work at 10x the knee's concurrency. Pool 10 (as in issue 8's F4), the
// participants page closed-loop at 50 connections (the knee: throughput no longer grows) and at 500.
// Useful = 2xx answered within the deadline (DB_ACQUIRE_TIMEOUT_MS, the longest an accepted request
// may wait for a connection).
import { poolVars } from '@mokakbab/config';
import { READ_ROUTES } from '../lib/read-routes.js';
import { goal, measureClosed, type Context, type ScenarioResult } from '../lib/scenario.js';
import { formatSpread, percentile, ratio, spread } from '../lib/stats.js';

const POOL_SIZE = '10';
const KNEE_CONNECTIONS = 50;
const ARMS = ['knee', '10x'] as const;
const CONNECTIONS = { knee: KNEE_CONNECTIONS, '10x': KNEE_CONNECTIONS * 10 };
const DEADLINE_MS = Number(poolVars.acquireTimeoutMs.defaultValue);

export async function overload(ctx: Context): Promise<ScenarioResult> {
  const { profile, rounds } = ctx.args;
  const route = READ_ROUTES.find((r) => r.name === 'participants page')!;
  const tokens = await ctx.tokens();
  const api = await ctx.startReady({ DB_POOL_SIZE: POOL_SIZE });
  try {
    const url = `${api.url}${route.path(ctx.articleId)}`;
    await measureClosed({ url, connections: KNEE_CONNECTIONS, durationS: 1, bearerTokens: tokens }, {});
    const runs = await ctx.alternate(ARMS, async (arm) => {
      const m = await measureClosed(
        { url, connections: CONNECTIONS[arm], durationS: profile.roundS, bearerTokens: tokens },
        { api: api.pid },
      );
      const accepted = m.samples.filter((s) => s.status >= 200 && s.status < 300);
      const useful = accepted.filter((s) => s.latencyMs <= DEADLINE_MS).length;
      const { samples: _s, ...rest } = m;
      return {
        ...rest,
        usefulRps: useful / profile.roundS,
        acceptedP99Ms: percentile(
          accepted.map((s) => s.latencyMs),
          99,
        ),
        rejected: m.samples.filter((s) => s.status === 503).length,
      };
    });
    const useful = (arm: (typeof ARMS)[number]) => spread(runs[arm].map((r) => r.usefulRps));
    const keep = ratio(useful('10x').median, useful('knee').median);
    const p99 = spread(runs['10x'].map((r) => r.acceptedP99Ms)).median;
    return {
      scenario: 'overload',
      title: 'Overload: useful work at 10x the knee',
      setup:
        `Pool ${POOL_SIZE}, GET ${route.path(ctx.articleId)}, closed loop at ${KNEE_CONNECTIONS} and ${CONNECTIONS['10x']} connections,` +
        ` ${profile.roundS} s per round, ${rounds} alternating rounds; useful = 2xx within ${DEADLINE_MS} ms; median (range).`,
      tables: [
        {
          caption: 'Knee vs 10x',
          header: [
            'arm',
            'connections',
            'useful req/s',
            'all req/s',
            '503',
            'other failed',
            'accepted p50 ms',
            'accepted p99 ms',
            'API CPU µs/req',
          ],
          rows: ARMS.map((arm) => [
            arm,
            CONNECTIONS[arm],
            formatSpread(useful(arm)),
            formatSpread(spread(runs[arm].map((r) => r.rps))),
            runs[arm].reduce((n, r) => n + r.rejected, 0),
            runs[arm].reduce((n, r) => n + r.count - r.ok - r.rejected, 0),
            formatSpread(spread(runs[arm].map((r) => r.p50Ms)), 1),
            formatSpread(spread(runs[arm].map((r) => r.acceptedP99Ms)), 1),
            formatSpread(spread(runs[arm].map((r) => r.cpuUsPerRequest.api!))),
          ]),
        },
      ],
      goals: [
        goal('useful req/s at 10x / at the knee', keep, '>=', 0.7),
        goal('accepted p99 at 10x', Number.isFinite(p99) ? Math.round(p99) : null, '<=', DEADLINE_MS, ' ms'),
      ],
      rounds: runs,
    };
  } finally {
    await api.stop();
  }
}
