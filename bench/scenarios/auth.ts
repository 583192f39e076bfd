// auth: what verifying the bearer token costs on the participants page. Arms: auth off (the same
// API without the route's authenticate hook, bench/servers/api-auth-off.ts), and the token cache on
// vs off for HS256 and ES256. Closed loop; req/s and API CPU µs per request.
import type { ApiProcess } from '../lib/api-process.js';
import { READ_ROUTES } from '../lib/read-routes.js';
import { goal, measureClosed, type Context, type JwtAlgorithm, type ScenarioResult } from '../lib/scenario.js';
import { formatSpread, ratio, spread } from '../lib/stats.js';

const CONNECTIONS = 50;
const WARMUP_S = 1;
const ARMS = ['auth off', 'HS256 cache on', 'HS256 cache off', 'ES256 cache on', 'ES256 cache off'] as const;
type Arm = (typeof ARMS)[number];

const ARM_SETUP: Record<Arm, { algorithm: JwtAlgorithm; cacheSize: string; entry?: string }> = {
  'auth off': { algorithm: 'HS256', cacheSize: '10000', entry: 'bench/servers/api-auth-off.ts' },
  'HS256 cache on': { algorithm: 'HS256', cacheSize: '10000' },
  'HS256 cache off': { algorithm: 'HS256', cacheSize: '0' },
  'ES256 cache on': { algorithm: 'ES256', cacheSize: '10000' },
  'ES256 cache off': { algorithm: 'ES256', cacheSize: '0' },
};

export async function auth(ctx: Context): Promise<ScenarioResult> {
  const { profile, rounds } = ctx.args;
  const route = READ_ROUTES.find((r) => r.name === 'participants page')!;
  const tokens = { HS256: await ctx.tokens('HS256'), ES256: await ctx.tokens('ES256') };
  const apis = new Map<Arm, ApiProcess>();
  try {
    for (const arm of ARMS) {
      const { algorithm, cacheSize, entry } = ARM_SETUP[arm];
      apis.set(arm, await ctx.startReady({ JWT_CACHE_SIZE: cacheSize }, algorithm, entry));
    }
    const opts = (arm: Arm, durationS: number) => ({
      url: `${apis.get(arm)!.url}${route.path(ctx.articleId)}`,
      connections: CONNECTIONS,
      durationS,
      bearerTokens: tokens[ARM_SETUP[arm].algorithm],
    });
    for (const arm of ARMS) await measureClosed(opts(arm, WARMUP_S), {});
    const runs = await ctx.alternate(ARMS, (arm) =>
      measureClosed(opts(arm, profile.roundS), { api: apis.get(arm)!.pid }),
    );
    const rps = (arm: Arm) => spread(runs[arm].map((r) => r.rps));
    const cpu = (arm: Arm) => spread(runs[arm].map((r) => r.cpuUsPerRequest.api!));
    const rows = ARMS.map((arm) => [
      arm,
      formatSpread(rps(arm)),
      formatSpread(cpu(arm)),
      formatSpread(spread(runs[arm].map((r) => r.clientCpuUsPerRequest))),
      formatSpread(spread(runs[arm].map((r) => r.p99Ms)), 1),
      runs[arm].reduce((n, r) => n + r.count - r.ok, 0),
    ]);
    const cachedVsOff = ratio(rps('HS256 cache on').median, rps('auth off').median);
    return {
      scenario: 'auth',
      title: 'Auth: cached verification vs no auth, cache on vs off',
      setup:
        `GET ${route.path(ctx.articleId)} with ${tokens.HS256.length} members' tokens in turn, pool 50,` +
        ` ${CONNECTIONS} closed-loop connections, ${profile.roundS} s per round, ${rounds} rounds with the five arms rotating; median (range).`,
      tables: [
        {
          caption: 'Participants page',
          header: ['arm', 'req/s', 'API CPU µs/req', 'client CPU µs/req', 'p99 ms', 'failed'],
          rows,
        },
        {
          caption: 'Ratios (req/s)',
          header: ['comparison', 'ratio'],
          rows: [
            ['HS256 cached auth / auth off', cachedVsOff ?? 'n/a'],
            ['HS256 cache on / off', ratio(rps('HS256 cache on').median, rps('HS256 cache off').median) ?? 'n/a'],
            ['ES256 cache on / off', ratio(rps('ES256 cache on').median, rps('ES256 cache off').median) ?? 'n/a'],
          ],
        },
      ],
      goals: [goal('cached auth req/s / auth off', cachedVsOff, '>=', 0.9)],
      rounds: Object.fromEntries(ARMS.map((arm) => [arm, runs[arm].map(({ samples: _s, ...r }) => r)])),
    };
  } finally {
    await Promise.all([...apis.values()].map((api) => api.stop()));
  }
}
