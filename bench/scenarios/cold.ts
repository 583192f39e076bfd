// cold: the original failure. A fresh API with a pool of 300 over verified TLS to a server with
// max_connections 500 and thread_cache_size 8, hit at t=0 by a burst of 600 concurrent connections.
// Arms: lazy (WARM_ON_BOOT=false, the burst starts when the port opens), warm (pool only,
// WARM_REQUESTS=0), warm + self-warm (the default: hot routes injected before ready), warm + replay
// (pool only, then the warmer's replay exactly as Compose and Kubernetes configure it).
// The burst client opens all connections at t=0 and reports their connect time and the kernel's
// SYN/accept-queue drop counters on their own; request latency counts from the write (lib/burst.ts).
// The two "k6 clock" arms (the default warm-up) time each first request from before its connect, as
// a k6 VU does, so the wait in the API's accept queue counts: LISTEN_SOCKETS=1 against 4.
import { readFileSync } from 'node:fs';
import { apiVars, warmerVars } from '@mokakbab/config';
import { seededMember } from '@mokakbab/db';
import { parseReplay, ReplayError, runReplay, type ReplaySpec } from '@mokakbab/warmer';
import { startApi } from '../lib/api-process.js';
import { counterDeltas } from '../lib/database.js';
import { burst } from '../lib/burst.js';
import { TCP_DROP_COUNTERS, tcpCounters } from '../lib/kernel.js';
import { failedStatuses, summarize, type Sample, type Summary } from '../lib/load.js';
import { READ_ROUTES } from '../lib/read-routes.js';
import { goal, type Context, type Goal, type ScenarioResult, type Timeline } from '../lib/scenario.js';
import { formatSpread, percentile, ratio, spread } from '../lib/stats.js';

const POOL_SIZE = '300';
const FIRST_MS = 2_000;
const BUCKET_MS = 100;
const REPLAY_TIMEOUT_MS = 5_000;
const DEPLOYED_CONFIG = new URL('../../infra/k8s/base/config.env', import.meta.url);

const DEFAULT_SOCKETS = String(apiVars.listenSockets.defaultValue);
const K6_ONE_SOCKET = 'k6 clock, LISTEN_SOCKETS=1';
const K6_FOUR_SOCKETS = 'k6 clock, LISTEN_SOCKETS=4';
export const COLD_ARMS = [
  'lazy',
  'warm (pool only)',
  'warm + self-warm',
  'warm + replay',
  K6_ONE_SOCKET,
  K6_FOUR_SOCKETS,
] as const;
type Arm = (typeof COLD_ARMS)[number];

const ARM_ENV: Record<Arm, Record<string, string>> = {
  lazy: { WARM_ON_BOOT: 'false' },
  'warm (pool only)': { WARM_REQUESTS: '0' },
  'warm + self-warm': {},
  'warm + replay': { WARM_REQUESTS: '0' },
  [K6_ONE_SOCKET]: { LISTEN_SOCKETS: '1' },
  [K6_FOUR_SOCKETS]: { LISTEN_SOCKETS: '4' },
};
const K6_CLOCK_ARMS: readonly Arm[] = [K6_ONE_SOCKET, K6_FOUR_SOCKETS];

/**
 * The replay a production Secret gives the warmer (overlays/prod: WARMER_REPLAY with a warm-up
 * member): the Kubernetes base's public list, then signed in, the participants page.
 */
function signedInReplay(base: ReplaySpec, member: { email: string; password: string }, path: string): ReplaySpec {
  return {
    signIn: member,
    requests: [
      ...base.requests,
      { method: 'GET', path, headers: { authorization: 'Bearer $TOKEN' }, expectStatus: 200 },
    ],
  };
}

/** The replay list the Kubernetes base (and Compose, the same list) gives the warmer. */
function deployedReplay(): ReplaySpec {
  const line = readFileSync(DEPLOYED_CONFIG, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('WARMER_REPLAY='));
  if (!line) throw new Error(`${DEPLOYED_CONFIG.pathname} has no WARMER_REPLAY`);
  return parseReplay(line.slice('WARMER_REPLAY='.length), 'WARMER_REPLAY');
}

interface ColdRound {
  readonly first: Summary;
  readonly after: Summary;
  readonly all: Summary;
  readonly rps: number;
  readonly serverCounters: Record<string, number>;
  /** ms from t=0 until the connections were up: the client and the kernel, not the API's request path. */
  readonly connect: {
    readonly p50Ms: number;
    readonly p99Ms: number;
    readonly maxMs: number;
    readonly failed: number;
    /** Until the server had accepted them all (its accept queue empty); NaN where not observable. */
    readonly allAcceptedMs: number;
  };
  /** The kernel's drop counters (accept queue, SYN queue, SYN retransmits) over the burst. */
  readonly tcpCounters: Record<string, number>;
  readonly failedStatuses: string;
  /** Non-2xx answers by status and error code (which shedding refused them). */
  readonly errorCodes: Record<string, number>;
  /** The warmer's replay failing (e.g. a route slower than its timeout) is recorded, and the burst runs anyway. */
  readonly replayError?: string;
  readonly samples: readonly Sample[];
}

export async function cold(ctx: Context): Promise<ScenarioResult> {
  const { profile, rounds } = ctx.args;
  const route = READ_ROUTES.find((r) => r.name === 'participants page')!;
  const tokens = await ctx.tokens();
  const replay = signedInReplay(deployedReplay(), seededMember(1), route.path(ctx.articleId));
  const runs = await ctx.alternate(COLD_ARMS, async (arm): Promise<ColdRound> => {
    const before = await ctx.db.connectErrors();
    const env = { DB_POOL_SIZE: POOL_SIZE, ...ARM_ENV[arm] };
    // Lazy: the load starts the moment /health/live answers, i.e. the port is open.
    const api = arm === 'lazy' ? await startApi(ctx.apiEnv(env)) : await ctx.startReady(env);
    let replayError: string | undefined;
    try {
      if (arm === 'warm + replay') {
        replayError = await runReplay(new URL(api.url), replay, {
          durationMs: Number(warmerVars.replayDurationMs.defaultValue),
          connections: Number(warmerVars.replayConnections.defaultValue),
          requestTimeoutMs: REPLAY_TIMEOUT_MS,
          signal: AbortSignal.timeout(REPLAY_TIMEOUT_MS * 4),
        }).then(
          () => undefined,
          (err: unknown) => {
            if (err instanceof ReplayError) return err.message;
            throw err;
          },
        );
      }
      const tcpBefore = tcpCounters();
      const run = await burst({
        url: `${api.url}${route.path(ctx.articleId)}`,
        connections: profile.burstConnections,
        durationS: profile.burstS,
        bearerTokens: tokens,
        clock: K6_CLOCK_ARMS.includes(arm) ? 'connect' : 'accepted',
      });
      const tcp = counterDeltas(tcpBefore, tcpCounters());
      const all = summarize(run.samples);
      const round: ColdRound = {
        first: summarize(run.samples, (s) => s.sentMs < FIRST_MS),
        after: summarize(run.samples, (s) => s.sentMs >= FIRST_MS),
        all,
        rps: all.count / run.durationS,
        serverCounters: counterDeltas(before, await ctx.db.connectErrors()),
        connect: {
          p50Ms: percentile(run.connectMs, 50),
          p99Ms: percentile(run.connectMs, 99),
          maxMs: run.connectMs.length ? Math.max(...run.connectMs) : Number.NaN,
          failed: run.connectFailures,
          allAcceptedMs: run.acceptedMs ?? Number.NaN,
        },
        tcpCounters: tcp,
        failedStatuses: failedStatuses(run.samples),
        errorCodes: run.errorCodes,
        ...(replayError === undefined ? {} : { replayError }),
        samples: run.samples,
      };
      ctx.log(
        `cold ${arm}: first 2 s p99 ${Math.round(round.first.p99Ms)} ms, after ${Math.round(round.after.p99Ms)} ms,` +
          ` failed ${round.failedStatuses} ${JSON.stringify(round.errorCodes)}, aborted ${round.serverCounters.Aborted_connects},` +
          ` connect p99 ${Math.round(round.connect.p99Ms)} ms, all accepted ${Math.round(round.connect.allAcceptedMs)} ms, tcp drops ${JSON.stringify(tcp)}` +
          (replayError ? `; replay failed: ${replayError}` : ''),
      );
      return round;
    } finally {
      await api.stop();
    }
  });

  const failed = (s: Summary) => s.count - s.ok;
  const rows = COLD_ARMS.map((arm) => {
    const r = runs[arm];
    const f = (pick: (x: ColdRound) => number, digits = 0) => formatSpread(spread(r.map(pick)), digits);
    const otherErrors = r.reduce(
      (n, x) =>
        n +
        Object.entries(x.serverCounters)
          .filter(([k]) => k !== 'Aborted_connects')
          .reduce((m, [, v]) => m + v, 0),
      0,
    );
    const replayFailed = r.filter((x) => x.replayError).length;
    return [
      replayFailed ? `${arm} (replay failed in ${replayFailed} of ${r.length} rounds)` : arm,
      `${r.reduce((n, x) => n + failed(x.all), 0)} (${failureCodes(r)})`,
      f((x) => x.first.p50Ms, 1),
      f((x) => x.first.p99Ms, 1),
      f((x) => x.first.maxMs),
      f((x) => x.after.p50Ms, 1),
      f((x) => x.after.p99Ms, 1),
      f((x) => x.after.maxMs),
      f((x) => ratio(x.first.p99Ms, x.after.p99Ms) ?? Number.NaN, 2),
      f((x) => x.rps),
      r.reduce((n, x) => n + (x.serverCounters.Aborted_connects ?? 0), 0),
      otherErrors,
      f((x) => x.connect.p99Ms),
      f((x) => x.connect.allAcceptedMs),
      r.reduce((n, x) => n + x.connect.failed, 0),
      tcpDrops(r.map((x) => x.tcpCounters)),
    ];
  });
  const goals: Goal[] = [];
  // Of the k6-clock arms, the goals apply to the one that runs the shipped LISTEN_SOCKETS.
  const notShipped = K6_CLOCK_ARMS.filter((a) => ARM_ENV[a].LISTEN_SOCKETS !== DEFAULT_SOCKETS);
  for (const arm of COLD_ARMS.filter((a) => a !== 'lazy' && !notShipped.includes(a))) {
    const r = runs[arm];
    const gap = spread(r.map((x) => ratio(x.first.p99Ms, x.after.p99Ms) ?? Number.NaN)).median;
    goals.push(
      goal(
        `${arm}: failed requests (all rounds)`,
        r.reduce((n, x) => n + failed(x.all), 0),
        '<=',
        0,
      ),
    );
    goals.push(
      goal(
        `${arm}: Aborted_connects delta (all rounds)`,
        r.reduce((n, x) => n + (x.serverCounters.Aborted_connects ?? 0), 0),
        '<=',
        0,
      ),
    );
    goals.push(goal(`${arm}: first-2-s p99 / steady p99 (median of rounds)`, gap, '<=', 1.5));
  }
  return {
    scenario: 'cold',
    title: 'Cold start under the original conditions',
    setup:
      `Fresh API per round, pool ${POOL_SIZE}, verified TLS (require_secure_transport=ON), server max_connections 500,` +
      ` thread_cache_size 8; ${profile.burstConnections} connections at t=0 for ${profile.burstS} s on GET ${route.path(ctx.articleId)};` +
      ` ${rounds} rounds, arms rotating. The ${profile.burstConnections} connections open together at t=0 (their connect time, from t=0, is a column` +
      ` of its own, with the kernel's accept/SYN queue drops and SYN retransmits: ${TCP_DROP_COUNTERS.join(', ')}); once the API has` +
      ` accepted them all (its accept queue empty: "all accepted ms"), each sends its first request at once and then one after another; latency from the write, by send time, first 2 s vs after;` +
      ` median (range), failed and counters summed.` +
      ` The "k6 clock" arms (default warm-up, LISTEN_SOCKETS=1 vs 4; the default is ${DEFAULT_SOCKETS}) measure what a k6 VU sees: each connection` +
      ` writes its first request as it opens and that request is timed from before the connect (k6's http_req_blocked and` +
      ` http_req_connecting are part of it), so the wait in the API's accept queue is request time; connect and "all accepted" are still reported.` +
      ` Replay: the production Secret's WARMER_REPLAY (sign-in, then ${replay.requests.map((r) => r.path).join(', ')}) for the default` +
      ` ${warmerVars.replayDurationMs.defaultValue} ms on ${warmerVars.replayConnections.defaultValue} connections.`,
    tables: [
      {
        caption: 'Burst of the first seconds',
        header: [
          'arm',
          'failed',
          'first 2 s p50',
          'first 2 s p99',
          'first 2 s max',
          'after p50',
          'after p99',
          'after max',
          'p99 first/after',
          'req/s',
          'Aborted_connects',
          'Connection_errors_*',
          'connect p99 ms',
          'all accepted ms',
          'connect failed',
          'kernel TCP drops',
        ],
        rows,
      },
    ],
    goals,
    rounds: Object.fromEntries(COLD_ARMS.map((arm) => [arm, runs[arm].map(({ samples: _s, ...x }) => x)])),
    timeline: timeline(
      COLD_ARMS.map((arm) => ({ arm, samples: runs[arm].flatMap((x) => x.samples) })),
      profile.burstS * 1000,
    ),
  };
}

/** "503 OVERLOADED: 12, 0: 3": the failures of all rounds by status and error code, most first; "none". */
function failureCodes(rounds: readonly ColdRound[]): string {
  const counts: Record<string, number> = {};
  for (const r of rounds) {
    for (const [k, v] of Object.entries(r.errorCodes)) counts[k] = (counts[k] ?? 0) + v;
    const transport = r.samples.filter((s) => s.status === 0).length;
    if (transport) counts['0'] = (counts['0'] ?? 0) + transport;
  }
  const sorted = Object.entries(counts).sort((a, b) => b[1] - a[1]);
  return sorted.length ? sorted.map(([k, v]) => `${k}: ${v}`).join(', ') : 'none';
}

/** "0", or the kernel counters that moved, summed over the rounds ("ListenDrops 12, TCPSynRetrans 12"). */
export function tcpDrops(rounds: readonly Record<string, number>[]): string {
  const sum: Record<string, number> = {};
  for (const r of rounds) for (const [k, v] of Object.entries(r)) sum[k] = (sum[k] ?? 0) + v;
  const moved = Object.entries(sum).filter(([, v]) => v !== 0);
  return moved.length ? moved.map(([k, v]) => `${k} ${v}`).join(', ') : '0';
}

/** p99 and failed requests per 100 ms bucket of send time, all rounds of an arm pooled. */
export function timeline(arms: readonly { arm: string; samples: readonly Sample[] }[], durationMs: number): Timeline {
  const buckets = Math.ceil(durationMs / BUCKET_MS);
  return {
    bucketMs: BUCKET_MS,
    series: arms.map(({ arm, samples }) => {
      const latencies: number[][] = Array.from({ length: buckets }, () => []);
      const errors = new Array<number>(buckets).fill(0);
      for (const s of samples) {
        const b = Math.min(buckets - 1, Math.max(0, Math.floor(s.sentMs / BUCKET_MS)));
        if (s.status === 0 || s.status >= 300) errors[b]!++;
        if (s.status !== 0) latencies[b]!.push(s.latencyMs);
      }
      return { arm, p99Ms: latencies.map((l) => (l.length ? Math.round(percentile(l, 99) * 10) / 10 : null)), errors };
    }),
  };
}
