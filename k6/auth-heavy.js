// @ts-check
// Many distinct users: each VU signs in as its own seeded member, calls authenticated endpoints with
// that token, and signs in again now and then (a fresh token the verification cache has not seen).
// Stresses JWT verification, the cache's hit path and its bound. Sign-ins are part of what it
// measures, so it makes them for real, as clients of an API with a hashing cap: more VUs than
// PASSWORD_HASH_MAX_CONCURRENT get 503 HASHING_BUSY, wait its Retry-After and try again
// (`sign_in_rejected{reason:HASHING_BUSY}` counts them, `sign_in_time` includes the waits). Run it
// against an API started with k6/load.env: from one address its sign-ins exceed the default limits.
// With TOKENS_FILE it takes each new token from the file instead (members 1..N of `pnpm k6:tokens
// --count N`): the verification cache with N distinct tokens, and no scrypt in the run at all.
//   k6 run auth-heavy.js  (-e VUS=100 -e DURATION=1m -e MEMBERS=2000 -e TOKENS_FILE=...)
import http from 'k6/http';
import { SIGN_IN, SIGN_IN_THRESHOLDS, authorized, signIn, tokensFile } from './lib/auth.js';
import { expectStatus, randomId } from './lib/checks.js';
import { ARTICLES, BASE_URL, MEMBERS, envInt, envString } from './lib/config.js';
import { summaryFiles } from './lib/summary.js';

const VUS = envInt('VUS', 200);
/** Calls made with one token before the VU signs in again. */
const CALLS_PER_TOKEN = envInt('CALLS_PER_TOKEN', 20);
const TOKENS = tokensFile();
// Members whose token a VU may take: those of the file when there is one (entry i is member i + 1).
const POOL = TOKENS.length ? Math.min(TOKENS.length, MEMBERS) : MEMBERS;

/** @type {import('k6/options').Options} */
export const options = {
  scenarios: {
    users: {
      executor: 'constant-vus',
      vus: VUS,
      duration: envString('DURATION', '1m'),
    },
  },
  thresholds: Object.assign(
    {
      http_req_failed: ['rate<0.01'],
      // scrypt per sign-in is deliberate work; verifying a token must stay cheap next to it. Only
      // the sign-ins that hashed (200): a HASHING_BUSY answer is immediate and would pull p95 down.
      ['http_req_duration{name:' + SIGN_IN + ',status:200}']: ['p(95)<500'],
      'http_req_duration{name:GET /members/:id}': ['p(95)<50'],
      'http_req_duration{name:GET /participations/articles/:articleId}': ['p(95)<75'],
      checks: ['rate>0.99'],
    },
    SIGN_IN_THRESHOLDS,
  ),
};

/** The token of this VU (module state is per VU in k6). */
let token = '';
let memberId = 0;

export default function () {
  if (__ITER % CALLS_PER_TOKEN === 0) {
    // Spread VUs over all members, moving on each time, so the cache sees many distinct tokens.
    memberId = ((__VU - 1 + (__ITER / CALLS_PER_TOKEN) * VUS) % POOL) + 1;
    token = TOKENS.length ? TOKENS[memberId - 1].accessToken : signIn(memberId);
  }
  const member = http.get(BASE_URL + '/members/' + memberId, authorized(token, 'GET /members/:id'));
  expectStatus(member, 200, 'GET /members/:id');
  const route = 'GET /participations/articles/:articleId';
  const list = http.get(
    BASE_URL + '/participations/articles/' + randomId(ARTICLES) + '?limit=10',
    authorized(token, route),
  );
  expectStatus(list, 200, route);
}

/** @param {import('./lib/summary.js').SummaryData} data */
export function handleSummary(data) {
  return summaryFiles('auth-heavy', data);
}
