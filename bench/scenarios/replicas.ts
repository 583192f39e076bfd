// replicas: reads with 0 vs 2 read replicas, on a primary with two GTID replicas of its own
// (startReplicationSet, seeded at the profile's size, without TLS), then the fleet-plan
// simulation. On one machine the three servers, the API and the client share the CPU, so the
// 2-replica arm shows the routing's cost and spread, not the capacity replicas add on their own
// hosts.
import { httpVars, warmerVars } from '@mokakbab/config';
import { migrate, seed } from '@mokakbab/db';
import { startReplicationSet, type ReplicationSet } from '@mokakbab/testkit';
import { plannedServers, simulateRollout, type FleetServer, type RolloutResult } from '../lib/fleet-plan.js';
import { SERVER_OPTIONS } from '../lib/database.js';
import { READ_ROUTES } from '../lib/read-routes.js';
import { goal, measureClosed, type Context, type Goal, type ScenarioResult, type Table } from '../lib/scenario.js';
import { formatSpread, ratio, spread } from '../lib/stats.js';

const DATABASE = 'bench';
const POOL_SIZE = '50';
const CONNECTIONS = 50;
const WARMUP_S = 1;
const ARMS = ['0 replicas', '2 replicas'] as const;
type Arm = (typeof ARMS)[number];
// Seeding replicates row by row to both replicas; the full profile's rows take a while to apply.
const CATCH_UP_TIMEOUT_MS = 300_000;

/**
 * The prod overlay's fleet (3..10 pods, 25 % surge = 3, 20 reserved, 2 warm slots, a 500-connection
 * primary) with two readers of the same size, at its HPA maximum. A pod warms in about 2 s (the
 * ready scenario) and keeps its pools through SHUTDOWN_DELAY_MS + SHUTDOWN_TIMEOUT_MS.
 */
export const FLEET = {
  plan: {
    maxConnections: 500,
    replicas: 3,
    maxReplicas: 10,
    maxSurge: { kind: 'percent', value: 25 },
    reserved: 20,
    warmSlots: 2,
  },
  replicaMaxConnections: [500, 500],
  rollout: { replicas: 10, maxSurge: 3, maxUnavailable: 0, warmS: 2 },
} as const;

/** The base manifests' fleet (2..4 pods, surge 1, 10 reserved, 1 warm slot) on my.cnf's 200 connections, at its HPA maximum. */
export const BASE_FLEET = {
  plan: {
    maxConnections: 200,
    replicas: 2,
    maxReplicas: 4,
    maxSurge: { kind: 'count', value: 1 },
    reserved: 10,
    warmSlots: 1,
  },
  replicaMaxConnections: [],
  rollout: { replicas: 4, maxSurge: 1, maxUnavailable: 0, warmS: 2 },
} as const;

/** How long a terminating pod keeps its pools: at most the delay plus the whole drain; usually about the delay. */
export function fleetDrainS(): { worstS: number; typicalS: number } {
  const delayS = Number(httpVars.shutdownDelayMs.defaultValue) / 1000;
  return { worstS: delayS + Number(httpVars.shutdownTimeoutMs.defaultValue) / 1000, typicalS: delayS };
}

/** The warmer's room gate with its default WARM_ROOM_TIMEOUT_MS. */
export const ROOM_GATE = { timeoutS: Number(warmerVars.roomTimeoutMs.defaultValue) / 1000 } as const;

type Fleet = typeof FLEET | typeof BASE_FLEET;

/**
 * Each fleet under the default controller policy without and with the warmer's room gate, at the
 * worst and the usual drain, and under TerminationComplete at the worst: a table per fleet. The
 * goals are on what runs (the gate, and TerminationComplete); the rows without the gate show the
 * overrun the gate removes.
 */
export function fleetPlanSimulation(): { tables: Table[]; goals: Goal[]; results: Record<string, RolloutResult> } {
  const { worstS, typicalS } = fleetDrainS();
  const cases = [
    { policy: `TerminationStarted, no room gate, drain ${worstS} s`, countTerminating: false, drainS: worstS },
    { policy: `TerminationStarted, no room gate, drain ${typicalS} s`, countTerminating: false, drainS: typicalS },
    {
      policy: `TerminationStarted, room gate, drain ${worstS} s`,
      countTerminating: false,
      drainS: worstS,
      gated: true,
    },
    {
      policy: `TerminationStarted, room gate, drain ${typicalS} s`,
      countTerminating: false,
      drainS: typicalS,
      gated: true,
    },
    { policy: `TerminationComplete, drain ${worstS} s`, countTerminating: true, drainS: worstS },
  ];
  const fleets: Record<string, Fleet> = { prod: FLEET, base: BASE_FLEET };
  const results: Record<string, RolloutResult> = {};
  const tables: Table[] = [];
  const goals: Goal[] = [];
  for (const [fleetName, fleet] of Object.entries(fleets)) {
    const servers: FleetServer[] = plannedServers(
      { ...fleet.plan, maxSurge: { ...fleet.plan.maxSurge } },
      fleet.replicaMaxConnections,
    );
    const rows: (string | number)[][] = [];
    for (const { policy, countTerminating, drainS, gated } of cases) {
      const roomGate = gated ? ROOM_GATE : undefined;
      const r = simulateRollout({ ...fleet.rollout, drainS, countTerminating, servers, roomGate });
      results[`${fleetName}: ${policy}`] = r;
      rows.push([
        policy,
        r.peakPods,
        ...servers.map((s) => `${r.peak[s.name]} / ${s.limit}`),
        r.over.length === 0 ? 'none' : r.over.join(', '),
        r.durationS,
        gated ? r.longestRoomWaitS : '-',
      ]);
      if (!gated && !countTerminating) continue;
      const worst = Math.max(...servers.map((s) => r.peak[s.name]! - s.limit));
      goals.push(goal(`fleet plan, ${fleetName}, ${policy}: most connections over a server's limit`, worst, '<=', 0));
    }
    tables.push({
      caption:
        `Fleet-plan simulation, ${fleetName}: ${fleet.rollout.replicas} pods, surge ${fleet.rollout.maxSurge}, warm ${fleet.rollout.warmS} s,` +
        ` room gate timeout ${ROOM_GATE.timeoutS} s; pools per pod ${servers.map((s) => `${s.name} ${s.perPod}`).join(', ')}`,
      header: [
        'replacement policy',
        'peak pods',
        ...servers.map((s) => `${s.name} peak / limit`),
        'over',
        'rollout s',
        'longest room wait s',
      ],
      rows,
    });
  }
  return { tables, goals, results };
}

async function comSelects(set: ReplicationSet): Promise<number[]> {
  const read = async (query: ReplicationSet['query']) => {
    const [row] = await query<{ Value: string }[]>("SHOW GLOBAL STATUS LIKE 'Com_select'");
    return Number(row!.Value);
  };
  return Promise.all([read(set.query), ...set.replicas.map((r) => read(r.query))]);
}

export async function replicas(ctx: Context): Promise<ScenarioResult> {
  const { profile, rounds } = ctx.args;
  const simulation = fleetPlanSimulation();
  const set = await startReplicationSet({
    replicas: 2,
    options: SERVER_OPTIONS,
    catchUpTimeoutMs: CATCH_UP_TIMEOUT_MS,
  });
  try {
    const primaryUrl = new URL(set.primary.url.href);
    primaryUrl.pathname = `/${DATABASE}`;
    ctx.log(`replicas: seeding ${JSON.stringify(profile.seed)} on the primary, replicated to 2 ...`);
    await set.query(`CREATE DATABASE ${DATABASE} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    await migrate(primaryUrl);
    await seed(primaryUrl, profile.seed);
    await set.waitForCatchUp();
    const tokens = await ctx.tokens();
    const env = (replicaUrls: string) => ({
      DATABASE_URL: primaryUrl.href,
      // The replication set runs without TLS; an empty value is unset.
      DATABASE_CA: '',
      DB_POOL_SIZE: POOL_SIZE,
      DATABASE_REPLICA_URLS: replicaUrls,
    });
    const apis = {
      '0 replicas': await ctx.startReady(env('')),
      '2 replicas': await ctx.startReady(env(set.replicas.map((r) => r.urlFor(DATABASE).href).join(','))),
    } satisfies Record<Arm, unknown>;
    try {
      const pids = {
        primary: set.primary.pid,
        replica1: set.replicas[0]!.server.pid,
        replica2: set.replicas[1]!.server.pid,
      };
      const rows: (string | number)[][] = [];
      const goals: Goal[] = [...simulation.goals];
      const raw: Record<string, unknown> = {};
      for (const route of READ_ROUTES) {
        const url = (arm: Arm) => `${apis[arm].url}${route.path(ctx.articleId)}`;
        const bearerTokens = route.auth ? tokens : undefined;
        for (const arm of ARMS)
          await measureClosed({ url: url(arm), connections: CONNECTIONS, durationS: WARMUP_S, bearerTokens }, {});
        const spreadOf: Record<Arm, number[][]> = { '0 replicas': [], '2 replicas': [] };
        const runs = await ctx.alternate(ARMS, async (arm) => {
          const before = await comSelects(set);
          const m = await measureClosed(
            { url: url(arm), connections: CONNECTIONS, durationS: profile.roundS, bearerTokens },
            { api: apis[arm].pid, ...pids },
          );
          spreadOf[arm].push((await comSelects(set)).map((n, i) => n - before[i]!));
          const { samples: _s, ...rest } = m;
          return rest;
        });
        const rps = (arm: Arm) => spread(runs[arm].map((r) => r.rps));
        const errors = (arm: Arm) => runs[arm].reduce((n, r) => n + r.errors + (r.count - r.ok), 0);
        const share = (arm: Arm) => {
          const totals = spreadOf[arm].reduce((acc, d) => acc.map((v, i) => v + d[i]!), [0, 0, 0]);
          const sum = Math.max(
            1,
            totals.reduce((a, b) => a + b, 0),
          );
          return totals.map((v) => `${Math.round((100 * v) / sum)}%`).join(' / ');
        };
        const readRatio = ratio(rps('2 replicas').median, rps('0 replicas').median);
        rows.push([
          route.name,
          formatSpread(rps('0 replicas')),
          formatSpread(rps('2 replicas')),
          readRatio ?? 'n/a',
          formatSpread(spread(runs['0 replicas'].map((r) => r.p99Ms)), 1),
          formatSpread(spread(runs['2 replicas'].map((r) => r.p99Ms)), 1),
          share('2 replicas'),
          `${errors('0 replicas')} / ${errors('2 replicas')}`,
        ]);
        goals.push(goal(`${route.name}: failed responses with 2 replicas`, errors('2 replicas'), '<=', 0));
        raw[route.name] = { runs, comSelectDeltas: spreadOf };
        ctx.log(`replicas ${route.name}: 2 replicas / 0 throughput ${readRatio}, selects ${share('2 replicas')}`);
      }
      return {
        scenario: 'replicas',
        title: 'Read replicas: reads with 0 vs 2 replicas, and the fleet plan through a rolling update',
        setup:
          `A MariaDB primary and two GTID replicas on this machine (no TLS), seeded with ${JSON.stringify(profile.seed)};` +
          ` pool ${POOL_SIZE} per server, closed loop at ${CONNECTIONS} connections, ${profile.roundS} s per round,` +
          ` ${rounds} alternating rounds; median (range). The servers share this machine's CPU with the API and the client:` +
          ` the 2-replica arm shows routing and spread, not the capacity replicas on their own hosts add.`,
        tables: [
          {
            caption: '0 vs 2 replicas',
            header: [
              'route',
              'req/s, 0 replicas',
              'req/s, 2 replicas',
              '2 / 0',
              'p99 ms, 0',
              'p99 ms, 2',
              'Com_select primary / r1 / r2 (2 replicas)',
              'failed 0 / 2',
            ],
            rows,
          },
          ...simulation.tables,
        ],
        goals,
        rounds: { reads: raw, fleet: simulation.results },
      };
    } finally {
      await Promise.all(Object.values(apis).map((api) => api.stop()));
    }
  } finally {
    await set.stop();
  }
}
