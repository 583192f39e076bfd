// mixed: reads and writes in the proportions of a meal-meetup app, open loop at a fixed rate, pool
// 50: p99 per route, failures, and the API's RSS at the end of the run.
import { seededMember } from '@mokakbab/db';
import { rssBytes } from '../lib/cpu.js';
import { openLoop, summarize, type OpenRequest, type Sample } from '../lib/load.js';
import { PAGE_LIMIT } from '../lib/read-routes.js';
import { goal, type Context, type Goal, type ScenarioResult } from '../lib/scenario.js';
import { formatSpread, spread } from '../lib/stats.js';

const POOL_SIZE = '50';
const CONNECTIONS = 200;
const RSS_GOAL_MB = 150;
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
  const api = await ctx.startReady({ DB_POOL_SIZE: POOL_SIZE });
  const durationS = profile.fixedRateS * 2;
  const allRounds: Record<string, { samples: Sample[]; statuses: Record<string, number> }>[] = [];
  let rssEndBytes = Number.NaN;
  try {
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
    for (let round = 0; round < rounds; round++) {
      const run = await openLoop({
        origin: api.url,
        ratePerS: profile.mixedRatePerS,
        durationS,
        connections: CONNECTIONS,
        next,
      });
      allRounds.push(run.routes);
      ctx.log(`mixed round ${round + 1}: ${run.sent} sent at ${run.achievedRatePerS.toFixed(0)} req/s`);
    }
    rssEndBytes = rssBytes(api.pid);
  } finally {
    await api.stop();
  }
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
  const rssMb = Math.round(rssEndBytes / 1024 / 1024);
  const goals: Goal[] = [
    goal('failed (5xx and transport)', errors, '<=', 0),
    goal('API RSS at the end, pool 50', rssMb, '<=', RSS_GOAL_MB, ' MB'),
  ];
  return {
    scenario: 'mixed',
    title: 'Mixed reads and writes at a fixed rate',
    setup:
      `Open loop at ${profile.mixedRatePerS} req/s for ${durationS} s per round, ${rounds} rounds, pool ${POOL_SIZE}, mix per 100 requests: ` +
      `${Object.entries(MIX)
        .map(([r, c]) => `${r} ${c}`)
        .join(', ')}; latency from the scheduled send time; median (range) over rounds.`,
    tables: [
      { caption: 'Per route', header: ['route', 'requests', 'p50 ms', 'p99 ms', 'max ms', 'failed', 'statuses'], rows },
      { caption: 'Process', header: ['API RSS at the end (MB)'], rows: [[rssMb]] },
    ],
    goals,
    rounds: allRounds.map((r) =>
      Object.fromEntries(
        Object.entries(r).map(([route, x]) => [route, { ...summarize(x.samples), statuses: x.statuses }]),
      ),
    ),
  };
}
