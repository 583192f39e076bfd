// @ts-check
// A steady mixed read load: the article list, article details and participant lists, at a
// constant arrival rate. Shows the latency of a warm, right-sized fleet. It measures reads, not
// sign-in: the participant lists use the tokens of TOKENS_FILE (many distinct tokens, as real
// traffic has), else one token from one sign-in in setup(), shared by every VU.
//   k6 run steady.js  (-e RATE=200 -e DURATION=2m -e ARTICLES=500 -e TOKENS_FILE=...)
import http from 'k6/http';
import { SIGN_IN_THRESHOLDS, authorized, signIn, tokensFile } from './lib/auth.js';
import { expectStatus, randomId } from './lib/checks.js';
import { ARTICLES, BASE_URL, envInt, envString } from './lib/config.js';
import { summaryFiles } from './lib/summary.js';

const RATE = envInt('RATE', 200);
// open() and SharedArray work only in the init context, not in setup().
const TOKENS = tokensFile();

/** @type {import('k6/options').Options} */
export const options = {
  scenarios: {
    steady: {
      executor: 'constant-arrival-rate',
      rate: RATE,
      timeUnit: '1s',
      duration: envString('DURATION', '2m'),
      preAllocatedVUs: Math.max(10, Math.ceil(RATE / 10)),
      maxVUs: RATE,
    },
  },
  thresholds: Object.assign(
    {
      http_req_failed: ['rate<0.01'],
      dropped_iterations: ['count==0'],
      'http_req_duration{name:GET /articles}': ['p(95)<100'],
      'http_req_duration{name:GET /articles/:id}': ['p(95)<50'],
      'http_req_duration{name:GET /participations/articles/:articleId}': ['p(95)<50'],
      checks: ['rate>0.99'],
    },
    SIGN_IN_THRESHOLDS,
  ),
};

export function setup() {
  return { token: TOKENS.length ? '' : signIn(1) };
}

/** @param {{ token: string }} data */
export default function (data) {
  const pick = Math.random();
  if (pick < 0.5) {
    const res = http.get(BASE_URL + '/articles?limit=20', { tags: { name: 'GET /articles' } });
    expectStatus(res, 200, 'GET /articles');
  } else if (pick < 0.8) {
    const res = http.get(BASE_URL + '/articles/' + randomId(ARTICLES), { tags: { name: 'GET /articles/:id' } });
    expectStatus(res, 200, 'GET /articles/:id');
  } else {
    // From the shared array, not from setup(): setup()'s result is copied into every VU.
    const token = TOKENS.length ? TOKENS[randomId(TOKENS.length) - 1].accessToken : data.token;
    const route = 'GET /participations/articles/:articleId';
    const res = http.get(BASE_URL + '/participations/articles/' + randomId(ARTICLES), authorized(token, route));
    expectStatus(res, 200, route);
  }
}

/** @param {import('./lib/summary.js').SummaryData} data */
export function handleSummary(data) {
  return summaryFiles('steady', data);
}
