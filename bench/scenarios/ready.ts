// ready: time from spawn to /health/ready over verified TLS with pools of 50 and 300 (the default
// warm-up: pool, denylist, self-warm), and the server's Aborted_connects while it happens.
import { isPoolStats, poolStatsErrors } from '@mokakbab/contracts';
import { startApi, waitFor200 } from '../lib/api-process.js';
import { counterDeltas } from '../lib/database.js';
import { goal, type Context, type Goal, type ScenarioResult } from '../lib/scenario.js';
import { formatSpread, spread } from '../lib/stats.js';

const ARMS = ['50', '300'] as const;

interface ReadyRound {
  readonly liveMs: number;
  readonly readyMs: number;
  readonly poolWarmMs: number;
  readonly serverCounters: Record<string, number>;
}

export async function ready(ctx: Context): Promise<ScenarioResult> {
  const { rounds } = ctx.args;
  const runs = await ctx.alternate(ARMS, async (poolSize): Promise<ReadyRound> => {
    const before = await ctx.db.connectErrors();
    const started = performance.now();
    const api = await startApi(ctx.apiEnv({ DB_POOL_SIZE: poolSize }));
    try {
      const liveMs = performance.now() - started;
      await waitFor200(`${api.url}/health/ready`, api);
      const readyMs = performance.now() - started;
      const pool: unknown = await (await fetch(`${api.adminUrl}/pool`)).json();
      if (!isPoolStats(pool)) throw new Error(`GET /pool: not the admin contract (${poolStatsErrors(pool)})`);
      return {
        liveMs: Math.round(liveMs),
        readyMs: Math.round(readyMs),
        poolWarmMs: pool.lastWarmMs ?? Number.NaN,
        serverCounters: counterDeltas(before, await ctx.db.connectErrors()),
      };
    } finally {
      await api.stop();
    }
  });
  const goals: Goal[] = [];
  const rows = ARMS.map((poolSize) => {
    const r = runs[poolSize];
    const aborted = r.reduce((n, x) => n + (x.serverCounters.Aborted_connects ?? 0), 0);
    goals.push(goal(`pool ${poolSize}: Aborted_connects delta (all rounds)`, aborted, '<=', 0));
    return [
      poolSize,
      formatSpread(spread(r.map((x) => x.liveMs))),
      formatSpread(spread(r.map((x) => x.readyMs))),
      formatSpread(spread(r.map((x) => x.poolWarmMs))),
      formatSpread(spread(r.map((x) => x.readyMs - x.liveMs))),
      aborted,
    ];
  });
  return {
    scenario: 'ready',
    title: 'Time to ready over TLS',
    setup: `Fresh API from source (tsx) per round with the default warm-up (WARM_ON_BOOT, WARM_REQUESTS), verified TLS; ${rounds} rounds, pool sizes alternating; median (range).`,
    tables: [
      {
        caption: 'Spawn to ready',
        header: [
          'pool',
          'spawn -> live ms',
          'spawn -> ready ms',
          'pool warm-up ms',
          'live -> ready ms',
          'Aborted_connects',
        ],
        rows,
      },
    ],
    goals,
    rounds: runs,
  };
}
