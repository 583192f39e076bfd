// mixed: reads and writes in the proportions of a meal-meetup app, open loop at a fixed rate, pool
// 50: p99 per route, failures, and the API's RSS at the end of the run. Two API processes, rounds
// alternating: the API as it runs everywhere (through services/api/run.sh: V8 heap sizes and a fixed
// malloc mmap threshold) and the same build as `node <entry>`, where V8 sizes the heap from this
// machine's memory (64 MB semi-spaces on 24 GiB); the settings' cost is the ratio of CPU per request,
// p99 and closed-loop req/s between the two, their gain the ratio of RSS.
import { readFileSync } from 'node:fs';
import { seededMember } from '@mokakbab/db';
import { API_LAUNCHER, type ApiProcess } from '../lib/api-process.js';
import { cpuMeter } from '../lib/cpu.js';
import { openLoop, summarize, type OpenRequest, type Sample } from '../lib/load.js';
import { memoryBreakdown, type MemoryBreakdown } from '../lib/memory.js';
import { PAGE_LIMIT, READ_ROUTES } from '../lib/read-routes.js';
import { goal, measureClosed, type Context, type Goal, type ScenarioResult } from '../lib/scenario.js';
import { formatSpread, ratio, spread } from '../lib/stats.js';

const POOL_SIZE = '50';
const CONNECTIONS = 200;
const RSS_GOAL_MB = 150;
/** The closed-loop throughput check of each arm: the participants page, one connection per pool slot. */
const CLOSED_CONNECTIONS = 50;
const WARMUP_S = 1;
/** The goal's arm first: the API as it runs everywhere, and the same build started as `node <entry>`. */
const ARMS = { 'run.sh': { plainNode: false }, 'plain node': { plainNode: true } } as const;
type Arm = keyof typeof ARMS;
const ARM_NAMES = Object.keys(ARMS) as Arm[];

/** The settings the launcher exports (`: "${NAME=value}"` lines), for the report. */
export function launcherSettings(script: string): string {
  return [...script.matchAll(/^: "\$\{([A-Z_]+)=(.*)\}"$/gm)].map((m) => `${m[1]}=${m[2]}`).join(' ');
}

interface MixedRound {
  readonly routes: Record<string, { samples: Sample[]; statuses: Record<string, number> }>;
  readonly apiCpuUsPerRequest: number;
  /** The API's time in GC (all kinds) per request sent. */
  readonly gcUsPerRequest: number;
  readonly memory: MemoryBreakdown;
}

const gcTotal = (m: MemoryBreakdown) => Object.values(m.gcSeconds).reduce((a, b) => a + b, 0);
/** Requests per 100, by route. Reads dominate; sign-in and refresh as often as tokens expire. */
export const MIX = {
  'articles page': 30,
  'article by id': 25,
  'participants page': 25,
  join: 6,
  cancel: 4,
  'create article': 2,
  'sign-in': 4,
  refresh: 4,
} as const;
type Route = keyof typeof MIX;

/** A deterministic sequence of routes with the MIX proportions (each block of 100 has them exactly). */
export function routeSequence(): () => Route {
  const block = (Object.entries(MIX) as [Route, number][]).flatMap(([route, n]) => Array<Route>(n).fill(route));
  // Interleave rather than run each route in a row: stride 37 is coprime with 100.
  const order = block.map((_, i) => block[(i * 37) % block.length]!);
  let i = 0;
  return () => order[i++ % order.length]!;
}

export async function mixed(ctx: Context): Promise<ScenarioResult> {
  const { profile, rounds } = ctx.args;
  const tokens = await ctx.tokens();
  const [district] = await ctx.db.query<{ id: number; region_id: number }[]>(
    'SELECT id, region_id FROM district ORDER BY id LIMIT 1',
  );
  const [category] = await ctx.db.query<{ id: number }[]>('SELECT MIN(id) AS id FROM category');
  const articleCount = profile.seed.articles;
  const apis: Partial<Record<Arm, ApiProcess>> = {};
  const durationS = profile.fixedRateS * 2;
  let mixedRounds: Record<Arm, MixedRound[]> | undefined;
  let closedRounds: Record<Arm, { rps: number; p99Ms: number; apiCpuUs: number; gcUs: number }[]> | undefined;
  const memory: Partial<Record<Arm, MemoryBreakdown>> = {};
  const memoryAfterClosed: Partial<Record<Arm, MemoryBreakdown>> = {};
  try {
    for (const arm of ARM_NAMES)
      apis[arm] = await ctx.startReady({ DB_POOL_SIZE: POOL_SIZE }, 'HS256', undefined, ARMS[arm]);
    let n = 0;
    const pick = (max: number) => 1 + ((n++ * 7919) % max);
    const bearer = (i: number) => ({ authorization: `Bearer ${tokens[i % tokens.length]}` });
    // Only requests with a body say it is JSON (Fastify answers 400 to an empty JSON body).
    const bearerJson = (i: number) => ({ ...bearer(i), 'content-type': 'application/json' });
    const joined: { id: number; token: number }[] = [];
    const refreshTokens: string[] = [];
    const nextRoute = routeSequence();
    const signIn = (): OpenRequest => ({
      route: 'sign-in',
      method: 'POST',
      path: '/auth/sign-in',
      headers: { 'content-type': 'application/json' },
      // Members beyond the ones holding the load's tokens.
      body: JSON.stringify(seededMember(tokens.length + pick(Math.max(1, profile.seed.members - tokens.length)))),
      onAnswer: (status, body) => {
        if (status === 200) refreshTokens.push((JSON.parse(body) as { refreshToken: string }).refreshToken);
      },
    });
    const join = (t: number): OpenRequest => ({
      route: 'join',
      method: 'POST',
      path: '/participations',
      headers: bearerJson(t),
      body: JSON.stringify({ articleId: pick(articleCount) }),
      onAnswer: (status, body) => {
        if (status === 201) joined.push({ id: (JSON.parse(body) as { id: number }).id, token: t });
      },
    });
    const next = (): OpenRequest => {
      const route = nextRoute();
      const t = pick(tokens.length);
      switch (route) {
        case 'articles page':
          return { route, method: 'GET', path: `/articles?limit=${PAGE_LIMIT}` };
        case 'article by id':
          return { route, method: 'GET', path: `/articles/${pick(articleCount)}` };
        case 'participants page':
          return {
            route,
            method: 'GET',
            path: `/participations/articles/${pick(articleCount)}?limit=${PAGE_LIMIT}`,
            headers: bearer(t),
          };
        case 'join':
          return join(t);
        case 'cancel': {
          // Cancels one of the load's own joins, by the member who joined; none yet means a join.
          const own = joined.shift();
          if (!own) return join(t);
          return { route, method: 'DELETE', path: `/participations/${own.id}`, headers: bearer(own.token) };
        }
        case 'create article': {
          const start = new Date(Date.now() + 86_400_000);
          return {
            route,
            method: 'POST',
            path: '/articles',
            headers: bearerJson(t),
            body: JSON.stringify({
              title: 'Bench dinner',
              content: 'Open-loop mixed scenario.',
              categoryId: category!.id,
              regionId: district!.region_id,
              districtId: district!.id,
              startTime: start.toISOString(),
              endTime: new Date(start.getTime() + 7_200_000).toISOString(),
            }),
          };
        }
        case 'sign-in':
          return signIn();
        case 'refresh': {
          const refreshToken = refreshTokens.shift();
          if (!refreshToken) return signIn();
          return {
            route,
            method: 'POST',
            path: '/auth/access-token',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ refreshToken }),
            onAnswer: (status, body) => {
              if (status === 200) refreshTokens.push((JSON.parse(body) as { refreshToken: string }).refreshToken);
            },
          };
        }
      }
    };
    // Unmeasured, so that no arm's first round pays for what the self-warm left cold.
    for (const arm of ARM_NAMES)
      await openLoop({
        origin: apis[arm]!.url,
        ratePerS: profile.mixedRatePerS,
        durationS: WARMUP_S,
        connections: CONNECTIONS,
        next,
      });
    mixedRounds = await ctx.alternate(ARM_NAMES, async (arm, round): Promise<MixedRound> => {
      const api = apis[arm]!;
      const gcBefore = gcTotal(await memoryBreakdown(api.pid, api.adminUrl));
      const spent = cpuMeter({ api: api.pid });
      const run = await openLoop({
        origin: api.url,
        ratePerS: profile.mixedRatePerS,
        durationS,
        connections: CONNECTIONS,
        next,
      });
      const cpuMs = spent().byProcess.api!;
      // Right at the end of the round: the last round's is the goal's figure (the other arm's
      // round would leave this process idle, and V8 shrinks an idle heap).
      const end = await memoryBreakdown(api.pid, api.adminUrl);
      memory[arm] = end;
      ctx.log(
        `mixed ${arm} round ${round + 1}: ${run.sent} sent at ${run.achievedRatePerS.toFixed(0)} req/s, RSS ${end.rssMb} MB`,
      );
      return {
        routes: run.routes,
        apiCpuUsPerRequest: Math.round((cpuMs * 1000) / Math.max(1, run.sent)),
        gcUsPerRequest: Math.round(((gcTotal(end) - gcBefore) * 1e6) / Math.max(1, run.sent)),
        memory: end,
      };
    });
    const route = READ_ROUTES.find((r) => r.name === 'participants page')!;
    closedRounds = await ctx.alternate(ARM_NAMES, async (arm) => {
      const api = apis[arm]!;
      const gcBefore = gcTotal(await memoryBreakdown(api.pid, api.adminUrl));
      const m = await measureClosed(
        {
          url: `${api.url}${route.path(ctx.articleId)}`,
          connections: CLOSED_CONNECTIONS,
          durationS: profile.roundS,
          bearerTokens: tokens,
        },
        { api: api.pid },
      );
      const gcS = gcTotal(await memoryBreakdown(api.pid, api.adminUrl)) - gcBefore;
      return {
        rps: Math.round(m.rps),
        p99Ms: m.p99Ms,
        apiCpuUs: m.cpuUsPerRequest.api!,
        gcUs: Math.round((gcS * 1e6) / Math.max(1, m.count)),
      };
    });
    for (const arm of ARM_NAMES) memoryAfterClosed[arm] = await memoryBreakdown(apis[arm]!.pid, apis[arm]!.adminUrl);
    for (const arm of ARM_NAMES) ctx.log(`mixed ${arm}: ${JSON.stringify(memory[arm])}`);
  } finally {
    for (const api of Object.values(apis)) await api.stop();
  }
  const goalArm = ARM_NAMES[0]!;
  const allRounds = mixedRounds[goalArm].map((r) => r.routes);
  const routes = Object.keys(MIX) as Route[];
  const rows = routes.map((route) => {
    const per = allRounds.map((r) => summarize(r[route]?.samples ?? []));
    const statuses: Record<string, number> = {};
    for (const r of allRounds)
      for (const [code, c] of Object.entries(r[route]?.statuses ?? {})) statuses[code] = (statuses[code] ?? 0) + c;
    return [
      route,
      per.reduce((n, s) => n + s.count, 0),
      formatSpread(spread(per.map((s) => s.p50Ms)), 1),
      formatSpread(spread(per.map((s) => s.p99Ms)), 1),
      formatSpread(spread(per.map((s) => s.maxMs))),
      per.reduce((n, s) => n + s.errors, 0),
      Object.entries(statuses)
        .map(([code, c]) => `${code}: ${c}`)
        .join(', '),
    ];
  });
  const errors = allRounds.reduce(
    (n, r) => n + Object.values(r).reduce((m, x) => m + summarize(x.samples).errors, 0),
    0,
  );
  const rssMb = Math.round(memory[goalArm]!.rssMb);
  const median = (values: number[]) => spread(values).median;
  const allP99 = (arm: Arm) =>
    mixedRounds[arm].map((r) => summarize(Object.values(r.routes).flatMap((x) => x.samples)).p99Ms);
  const mixedCpu = (arm: Arm) => mixedRounds[arm].map((r) => r.apiCpuUsPerRequest);
  const closedRps = (arm: Arm) => closedRounds[arm].map((r) => r.rps);
  const mixedGc = (arm: Arm) => mixedRounds[arm].map((r) => r.gcUsPerRequest);
  const closedCpu = (arm: Arm) => closedRounds[arm].map((r) => r.apiCpuUs);
  const closedGc = (arm: Arm) => closedRounds[arm].map((r) => r.gcUs);
  const [launched, plain] = ARM_NAMES as [Arm, Arm];
  const ratios = {
    rss: ratio(memory[launched]!.rssMb, memory[plain]!.rssMb),
    mixedCpuPerRequest: ratio(median(mixedCpu(launched)), median(mixedCpu(plain))),
    mixedP99: ratio(median(allP99(launched)), median(allP99(plain))),
    closedRps: ratio(median(closedRps(launched)), median(closedRps(plain))),
    closedCpuPerRequest: ratio(median(closedCpu(launched)), median(closedCpu(plain))),
  };
  ctx.log(`mixed ${launched} / ${plain}: ${JSON.stringify(ratios)}`);
  const goals: Goal[] = [
    goal('failed (5xx and transport)', errors, '<=', 0),
    goal('API RSS at the end, pool 50', rssMb, '<=', RSS_GOAL_MB, ' MB'),
  ];
  const spaces = (m: MemoryBreakdown) =>
    `new ${m.spacesMb.new}, old ${m.spacesMb.old}, code ${m.spacesMb.code}, trusted ${m.spacesMb.trusted}`;
  const armRows = ARM_NAMES.map((arm) => [
    arm,
    arm === launched ? launcherSettings(readFileSync(API_LAUNCHER, 'utf8')) : '(none)',
    Math.round(memory[arm]!.rssMb),
    `${Math.round(memory[arm]!.rssAnonMb)} / ${Math.round(memory[arm]!.rssFileMb)}`,
    memory[arm]!.heapTotalMb,
    memory[arm]!.heapUsedMb,
    memory[arm]!.externalMb,
    spaces(memory[arm]!),
    formatSpread(spread(mixedCpu(arm))),
    formatSpread(spread(mixedGc(arm))),
    formatSpread(spread(allP99(arm)), 1),
    formatSpread(spread(closedRps(arm))),
    formatSpread(spread(closedCpu(arm))),
    formatSpread(spread(closedGc(arm))),
    Math.round(memoryAfterClosed[arm]!.rssMb),
  ]);
  const ratioRow = [
    `${launched} / ${plain}`,
    '',
    ratios.rss ?? 'n/a',
    '',
    '',
    '',
    '',
    '',
    ratios.mixedCpuPerRequest ?? 'n/a',
    ratio(median(mixedGc(launched)), median(mixedGc(plain))) ?? 'n/a',
    ratios.mixedP99 ?? 'n/a',
    ratios.closedRps ?? 'n/a',
    ratios.closedCpuPerRequest ?? 'n/a',
    ratio(median(closedGc(launched)), median(closedGc(plain))) ?? 'n/a',
    ratio(memoryAfterClosed[launched]!.rssMb, memoryAfterClosed[plain]!.rssMb) ?? 'n/a',
  ];
  return {
    scenario: 'mixed',
    title: 'Mixed reads and writes at a fixed rate',
    setup:
      `Open loop at ${profile.mixedRatePerS} req/s for ${durationS} s per round, ${rounds} rounds, pool ${POOL_SIZE}, mix per 100 requests: ` +
      `${Object.entries(MIX)
        .map(([r, c]) => `${r} ${c}`)
        .join(', ')}; latency from the scheduled send time; median (range) over rounds. ` +
      `Two API processes, rounds alternating: "${launched}" (started through services/api/run.sh, as every way of running the API is; the per-route table and the goals) ` +
      `and "${plain}" (\`node <entry>\`: V8 sizes the heap from this machine's memory, glibc its default malloc). Memory ` +
      `(RSS from /proc, heap figures from the API's own /metrics) right after each arm's last mixed round, after one unmeasured ${WARMUP_S}-s round per arm; then ${rounds} alternating closed-loop rounds of ${profile.roundS} s ` +
      `on the participants page with ${CLOSED_CONNECTIONS} connections for throughput, and the RSS after them.`,
    tables: [
      {
        caption: `Per route (${launched})`,
        header: ['route', 'requests', 'p50 ms', 'p99 ms', 'max ms', 'failed', 'statuses'],
        rows,
      },
      {
        caption: "Process memory, and the cost of run.sh's settings",
        header: [
          'arm',
          'settings',
          'RSS MB',
          'anon / file MB',
          'heap total MB',
          'heap used MB',
          'external MB',
          'V8 spaces MB',
          'mixed: API CPU µs/request',
          'mixed: GC µs/request',
          'mixed: p99 ms (all routes)',
          'closed loop: req/s',
          'closed loop: API CPU µs/request',
          'closed loop: GC µs/request',
          'RSS MB after the closed loop',
        ],
        rows: [...armRows, ratioRow],
      },
    ],
    goals,
    rounds: {
      mixed: Object.fromEntries(
        ARM_NAMES.map((arm) => [
          arm,
          mixedRounds[arm].map((r) => ({
            apiCpuUsPerRequest: r.apiCpuUsPerRequest,
            gcUsPerRequest: r.gcUsPerRequest,
            memory: r.memory,
            routes: Object.fromEntries(
              Object.entries(r.routes).map(([route, x]) => [route, { ...summarize(x.samples), statuses: x.statuses }]),
            ),
          })),
        ]),
      ),
      closed: closedRounds,
      memory,
      memoryAfterClosed,
      ratios,
    },
  };
}
