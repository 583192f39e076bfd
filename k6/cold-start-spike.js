// @ts-check
// The original failure: a burst at full rate from the first second against the endpoint the old
// deployment failed on. Run it right after the API starts (the old deployment failed it while cold).
// It measures reads, not sign-in: one token for every VU, from TOKENS_FILE or one sign-in in setup().
//   k6 run cold-start-spike.js  (-e RATE=600 -e DURATION=30s -e BASE_URL=... -e TOKENS_FILE=...)
import http from 'k6/http';
import { SIGN_IN_THRESHOLDS, authorized, signIn, tokensFile } from './lib/auth.js';
import { expectStatus } from './lib/checks.js';
import { ARTICLE_ID, BASE_URL, envInt, envString } from './lib/config.js';
import { summaryFiles } from './lib/summary.js';

const RATE = envInt('RATE', 600);
const ROUTE = 'GET /participations/articles/:articleId';
// open() and SharedArray work only in the init context, not in setup().
const TOKENS = tokensFile();

/** @type {import('k6/options').Options} */
export const options = {
  scenarios: {
    spike: {
      // Arrivals do not wait for responses: a slow server shows as dropped iterations and queueing,
      // as with real users, instead of the load politely slowing down.
      executor: 'constant-arrival-rate',
      rate: RATE,
      timeUnit: '1s',
      duration: envString('DURATION', '30s'),
      // Enough VUs allocated before the first second: starting VUs mid-burst would hide the server's cold start.
      preAllocatedVUs: envInt('VUS', RATE),
      maxVUs: envInt('MAX_VUS', RATE * 2),
    },
  },
  // k6's default summary stops at p(95); show the p(99) the http_req_blocked threshold judges.
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'],
  thresholds: Object.assign(
    {
      // The old deployment: 532 of 600 connects aborted. Fewer than 1 % failures.
      http_req_failed: ['rate<0.01'],
      // Time waiting for a TCP connection (the 2 s max seen before): a full backlog shows here first.
      http_req_blocked: ['p(99)<100'],
      // Every planned request was sent: none skipped for lack of a free VU.
      dropped_iterations: ['count==0'],
      ['http_req_duration{name:' + ROUTE + '}']: ['p(95)<' + envInt('P95_MS', 200)],
      checks: ['rate>0.99'],
    },
    SIGN_IN_THRESHOLDS,
  ),
};

export function setup() {
  const minted = TOKENS[0];
  return { token: minted ? minted.accessToken : signIn(1) };
}

/** @param {{ token: string }} data */
export default function (data) {
  const res = http.get(
    BASE_URL + '/participations/articles/' + ARTICLE_ID + '?limit=20',
    authorized(data.token, ROUTE),
  );
  expectStatus(res, 200, ROUTE);
}

/** @param {import('./lib/summary.js').SummaryData} data */
export function handleSummary(data) {
  return summaryFiles('cold-start-spike', data);
}
