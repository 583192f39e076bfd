// @ts-check
// Reads and writes in the proportions of a meetup app at its busy hour: mostly browsing (article
// list and details, participant lists), some joins and cancellations, a few new articles and token
// refreshes. Each VU is its own seeded member (its joins, its refresh token), at a constant arrival
// rate. Shows the pool under writes: transactions, the unique (article, member) key, row locks.
// A VU starts with its member's pair from TOKENS_FILE, else signs in on its first call (honouring
// HASHING_BUSY's Retry-After). Its refreshes (about 1 a second at 50/s) exceed the default
// per-address refresh limit from one k6 box: run it against an API started with k6/load.env.
//   k6 run mixed.js  (-e RATE=100 -e DURATION=1m -e MEMBERS=1000 -e TOKENS_FILE=$PWD/k6/results/tokens.json)
import http from 'k6/http';
import { JSON_HEADERS, SIGN_IN_THRESHOLDS, authorized, signInPair, tokensFile } from './lib/auth.js';
import { expectStatus, randomId } from './lib/checks.js';
import { ARTICLES, BASE_URL, MEMBERS, envInt, envString } from './lib/config.js';
import { summaryFiles } from './lib/summary.js';

const RATE = envInt('RATE', 100);
// One member per VU (its refresh token rotates): never more VUs than seeded members.
const MAX_VUS = Math.min(envInt('MAX_VUS', RATE * 2), MEMBERS);
const TOKENS = tokensFile();

// Cumulative shares of each action; the rest (2 %) refreshes the token.
const SHARES = {
  list: 0.55,
  detail: 0.7,
  participants: 0.82,
  join: 0.9,
  cancel: 0.95,
  create: 0.98,
};

/** @type {import('k6/options').Options} */
export const options = {
  scenarios: {
    mixed: {
      executor: 'constant-arrival-rate',
      rate: RATE,
      timeUnit: '1s',
      duration: envString('DURATION', '1m'),
      preAllocatedVUs: Math.min(Math.max(10, Math.ceil(RATE / 5)), MAX_VUS),
      maxVUs: MAX_VUS,
    },
  },
  summaryTrendStats: ['avg', 'med', 'p(90)', 'p(95)', 'p(99)', 'max'],
  thresholds: Object.assign(
    {
      http_req_failed: ['rate<0.01'],
      dropped_iterations: ['count==0'],
      'http_req_duration{name:GET /articles}': ['p(95)<100'],
      'http_req_duration{name:POST /participations}': ['p(95)<150'],
      'http_req_duration{name:DELETE /participations/:id}': ['p(95)<150'],
      'http_req_duration{name:POST /articles}': ['p(95)<150'],
      'http_req_duration{name:POST /auth/access-token}': ['p(95)<150'],
      checks: ['rate>0.99'],
    },
    SIGN_IN_THRESHOLDS,
  ),
};

/** Reference ids a new article may use: those of a seeded article. */
export function setup() {
  const res = http.get(BASE_URL + '/articles/1', { tags: { name: 'GET /articles/:id' } });
  if (res.status !== 200) throw new Error('GET /articles/1 answered ' + res.status + ': seed the database first');
  const article = /** @type {{ category: { id: number }, region: { id: number }, district: { id: number } }} */ (
    res.json()
  );
  return { categoryId: article.category.id, regionId: article.region.id, districtId: article.district.id };
}

// Module state is per VU in k6: this VU's member, tokens and the participations it may cancel.
const memberId = ((__VU - 1) % MEMBERS) + 1;
/** @type {import('./lib/auth.js').TokenPair | undefined} */
let tokens;
/** @type {number[]} */
const joined = [];

function session() {
  if (!tokens) tokens = TOKENS[memberId - 1] || signInPair(memberId);
  return tokens;
}

const JOIN_ANSWERS = http.expectedStatuses(201, 409);

function join() {
  const route = 'POST /participations';
  const params = authorized(session().accessToken, route);
  params.headers = Object.assign({}, params.headers, JSON_HEADERS);
  // A 409 (this member already joined that article: a realistic double tap) is an answer, not a
  // failed request: without this it counted against http_req_failed's 1 % while its check passed.
  params.responseCallback = JOIN_ANSWERS;
  const res = http.post(BASE_URL + '/participations', JSON.stringify({ articleId: randomId(ARTICLES) }), params);
  // 409: this member already joined that article (a realistic double tap), not a failure.
  if (res.status === 201) joined.push(/** @type {{ id: number }} */ (res.json()).id);
  expectStatus(res, res.status === 409 ? 409 : 201, route);
}

function cancel() {
  const id = joined.shift();
  if (id === undefined) return join();
  const route = 'DELETE /participations/:id';
  expectStatus(
    http.del(BASE_URL + '/participations/' + id, null, authorized(session().accessToken, route)),
    200,
    route,
  );
}

/** @param {{ categoryId: number, regionId: number, districtId: number }} refs */
function createArticle(refs) {
  const route = 'POST /articles';
  const params = authorized(session().accessToken, route);
  params.headers = Object.assign({}, params.headers, JSON_HEADERS);
  const start = Date.now() + 86400000;
  const body = {
    title: 'k6 meetup ' + __VU + '-' + __ITER,
    content: 'Lunch near the station, written by k6.',
    categoryId: refs.categoryId,
    regionId: refs.regionId,
    districtId: refs.districtId,
    startTime: new Date(start).toISOString(),
    endTime: new Date(start + 7200000).toISOString(),
  };
  expectStatus(http.post(BASE_URL + '/articles', JSON.stringify(body), params), 201, route);
}

function refresh() {
  const route = 'POST /auth/access-token';
  const res = http.post(BASE_URL + '/auth/access-token', JSON.stringify({ refreshToken: session().refreshToken }), {
    headers: JSON_HEADERS,
    tags: { name: route },
  });
  // Rotation: the old refresh token is spent, the new pair is this VU's from now on.
  if (res.status === 200) tokens = /** @type {import('./lib/auth.js').TokenPair} */ (res.json());
  expectStatus(res, 200, route);
}

/** @param {{ categoryId: number, regionId: number, districtId: number }} refs */
export default function (refs) {
  const pick = Math.random();
  if (pick < SHARES.list) {
    expectStatus(http.get(BASE_URL + '/articles?limit=20', { tags: { name: 'GET /articles' } }), 200, 'GET /articles');
  } else if (pick < SHARES.detail) {
    const res = http.get(BASE_URL + '/articles/' + randomId(ARTICLES), { tags: { name: 'GET /articles/:id' } });
    expectStatus(res, 200, 'GET /articles/:id');
  } else if (pick < SHARES.participants) {
    const route = 'GET /participations/articles/:articleId';
    const res = http.get(
      BASE_URL + '/participations/articles/' + randomId(ARTICLES) + '?limit=20',
      authorized(session().accessToken, route),
    );
    expectStatus(res, 200, route);
  } else if (pick < SHARES.join) {
    join();
  } else if (pick < SHARES.cancel) {
    cancel();
  } else if (pick < SHARES.create) {
    createArticle(refs);
  } else {
    refresh();
  }
}

/** @param {import('./lib/summary.js').SummaryData} data */
export function handleSummary(data) {
  return summaryFiles('mixed', data);
}
