// overload: useful work at 10x the knee's concurrency. Pool 10 (as in issue 8's F4), the
// participants page closed-loop at 50 connections (the knee: throughput no longer grows) and at 500.
// Useful = 2xx answered within the deadline (DB_ACQUIRE_TIMEOUT_MS, the longest an accepted request
// may wait for a connection). The queue limit is twice the knee's concurrency: at the knee 40
// requests wait for the 10 connections, at 10x about 490 would, and the door (plugins/app/overload.ts,
// db.overloaded()) answers the excess 503 OVERLOADED before any work, which is the shedding this measures.
// At 10x two kinds of client: ones that wait Retry-After, and ones that resend at once (autocannon,
// k6 VUs without sleep); each against the tarpit off (SHED_DELAY_MS=0) and on (its default), two
// API processes side by side, the arms alternating.
import { httpVars, poolVars } from '@mokakbab/config';
import { READ_ROUTES } from '../lib/read-routes.js';
import { goal, measureBurst, measureClosed, type Context, type ScenarioResult } from '../lib/scenario.js';
import { formatSpread, percentile, ratio, spread } from '../lib/stats.js';

const POOL_SIZE = '10';
const KNEE_CONNECTIONS = 50;
const ARMS = [
  'knee',
  '10x backoff, tarpit off',
  '10x backoff, tarpit on',
  '10x instant, tarpit off',
  '10x instant, tarpit on',
] as const;
type Arm = (typeof ARMS)[number];
const OVERLOADED_CONNECTIONS = KNEE_CONNECTIONS * 10;
const SHED_DELAY_MS = String(httpVars.shedDelayMs.defaultValue);
/** Connections, whether the client waits Retry-After, and which API (tarpit on or off). */
const SETUP: Record<Arm, { connections: number; backoff: boolean; tarpit: boolean }> = {
  knee: { connections: KNEE_CONNECTIONS, backoff: true, tarpit: true },
  '10x backoff, tarpit off': { connections: OVERLOADED_CONNECTIONS, backoff: true, tarpit: false },
  '10x backoff, tarpit on': { connections: OVERLOADED_CONNECTIONS, backoff: true, tarpit: true },
  '10x instant, tarpit off': { connections: OVERLOADED_CONNECTIONS, backoff: false, tarpit: false },
  '10x instant, tarpit on': { connections: OVERLOADED_CONNECTIONS, backoff: false, tarpit: true },
};
const OVERLOADED_ARMS = ARMS.filter((arm) => arm !== 'knee');
const QUEUE_LIMIT = String(KNEE_CONNECTIONS * 2);
const DEADLINE_MS = Number(poolVars.acquireTimeoutMs.defaultValue);
const REJECTED = /^http_requests_rejected_total\{reason="([a-z_]+)"\} (\d+)/gm;

/** The API's http_requests_rejected_total by reason, from its admin /metrics. */
async function rejectedByReason(adminUrl: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${adminUrl}/metrics`)).text();
  return Object.fromEntries([...text.matchAll(REJECTED)].map((m) => [m[1]!, Number(m[2])]));
}

export async function overload(ctx: Context): Promise<ScenarioResult> {
  const { profile, rounds } = ctx.args;
  const route = READ_ROUTES.find((r) => r.name === 'participants page')!;
  const tokens = await ctx.tokens();
  const env = { DB_POOL_SIZE: POOL_SIZE, DB_QUEUE_LIMIT: QUEUE_LIMIT };
  const on = await ctx.startReady({ ...env, SHED_DELAY_MS });
  const off = await ctx.startReady({ ...env, SHED_DELAY_MS: '0' }).catch(async (err: unknown) => {
    await on.stop();
    throw err;
  });
  try {
    const path = route.path(ctx.articleId);
    for (const api of [on, off]) {
      await measureClosed(
        { url: `${api.url}${path}`, connections: KNEE_CONNECTIONS, durationS: 1, bearerTokens: tokens },
        {},
      );
    }
    const runs = await ctx.alternate(ARMS, async (arm) => {
      const { connections, backoff, tarpit } = SETUP[arm];
      const api = tarpit ? on : off;
      const rejectedBefore = await rejectedByReason(api.adminUrl);
      // A client that backs off waits Retry-After on a refused connection before its next request;
      // the instant one resends at once, as autocannon does.
      const m = await measureBurst(
        {
          url: `${api.url}${path}`,
          connections,
          durationS: profile.roundS,
          bearerTokens: tokens,
          honorRetryAfter: backoff,
        },
        { api: api.pid },
      );
      const accepted = m.samples.filter((s) => s.status >= 200 && s.status < 300);
      const useful = accepted.filter((s) => s.latencyMs <= DEADLINE_MS).length;
      const { samples: _s, ...rest } = m;
      const rejectedAfter = await rejectedByReason(api.adminUrl);
      return {
        ...rest,
        shed: Object.fromEntries(
          Object.entries(rejectedAfter)
            .map(([reason, n]) => [reason, n - (rejectedBefore[reason] ?? 0)] as const)
            .filter(([, n]) => n > 0),
        ),
        usefulRps: useful / profile.roundS,
        acceptedP99Ms: percentile(
          accepted.map((s) => s.latencyMs),
          99,
        ),
        rejected: m.samples.filter((s) => s.status === 503).length,
      };
    });
    const useful = (arm: Arm) => spread(runs[arm].map((r) => r.usefulRps));
    const keep = (arm: Arm) => ratio(useful(arm).median, useful('knee').median);
    const p99 = (arm: Arm) => spread(runs[arm].map((r) => r.acceptedP99Ms)).median;
    const rounded = (ms: number) => (Number.isFinite(ms) ? Math.round(ms) : null);
    return {
      scenario: 'overload',
      title: 'Overload: useful work at 10x the knee',
      setup:
        `Pool ${POOL_SIZE}, DB_QUEUE_LIMIT ${QUEUE_LIMIT}, GET ${path}, closed loop at ${KNEE_CONNECTIONS} connections (backoff, tarpit on) and at ${OVERLOADED_CONNECTIONS}` +
        ` whose clients wait Retry-After (backoff) or resend at once (instant), against SHED_DELAY_MS=${SHED_DELAY_MS} (tarpit on) and 0 (off),` +
        ` ${profile.roundS} s per round, ${rounds} alternating rounds; useful = 2xx within ${DEADLINE_MS} ms; median (range).`,
      tables: [
        {
          caption: 'Knee vs 10x',
          header: [
            'arm',
            'connections',
            'useful / knee',
            'useful req/s',
            'all req/s',
            '503',
            'other failed',
            'shed at the door (reason)',
            'accepted p50 ms',
            'accepted p99 ms',
            'API CPU µs/req',
          ],
          rows: ARMS.map((arm) => [
            arm,
            SETUP[arm].connections,
            keep(arm) ?? '-',
            formatSpread(useful(arm)),
            formatSpread(spread(runs[arm].map((r) => r.rps))),
            runs[arm].reduce((n, r) => n + r.rejected, 0),
            runs[arm].reduce((n, r) => n + r.count - r.ok - r.rejected, 0),
            shedText(runs[arm].map((r) => r.shed)),
            formatSpread(spread(runs[arm].map((r) => r.p50Ms)), 1),
            formatSpread(spread(runs[arm].map((r) => r.acceptedP99Ms)), 1),
            formatSpread(spread(runs[arm].map((r) => r.cpuUsPerRequest.api!))),
          ]),
        },
      ],
      goals: [
        ...(['10x backoff, tarpit on', '10x instant, tarpit on'] as const).flatMap((arm) => [
          goal(`useful req/s at ${arm} / at the knee`, keep(arm), '>=', 0.7),
          goal(`accepted p99 at ${arm}`, rounded(p99(arm)), '<=', DEADLINE_MS, ' ms'),
        ]),
        // Without refusals at 10x the run did not reach the shedding it is meant to measure.
        goal(
          'requests shed at the door at 10x (all rounds)',
          shedTotal(OVERLOADED_ARMS.flatMap((arm) => runs[arm].map((r) => r.shed))),
          '>=',
          1,
        ),
      ],
      rounds: runs,
    };
  } finally {
    await Promise.all([on.stop(), off.stop()]);
  }
}

const shedTotal = (rounds: readonly Record<string, number>[]) =>
  rounds.reduce((n, r) => n + Object.values(r).reduce((m, v) => m + v, 0), 0);

/** "overload 1234, event_loop 5" summed over the rounds; "0" when nothing was shed. */
function shedText(rounds: readonly Record<string, number>[]): string {
  const sum: Record<string, number> = {};
  for (const r of rounds) for (const [k, v] of Object.entries(r)) sum[k] = (sum[k] ?? 0) + v;
  const parts = Object.entries(sum).map(([k, v]) => `${k} ${v}`);
  return parts.length ? parts.join(', ') : '0';
}
