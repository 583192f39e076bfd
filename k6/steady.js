// @ts-check
// A steady mixed read load: the article list, article details and participant lists, at a
// constant arrival rate. Shows the latency of a warm, right-sized fleet.
//   k6 run steady.js  (-e RATE=200 -e DURATION=2m -e ARTICLES=500)
import http from 'k6/http';
import { authorized, signIn } from './lib/auth.js';
import { expectStatus, randomId } from './lib/checks.js';
import { ARTICLES, BASE_URL, MEMBERS, envInt, envString } from './lib/config.js';
import { summaryFiles } from './lib/summary.js';

const RATE = envInt('RATE', 200);
const TOKENS = 20;

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
  thresholds: {
    http_req_failed: ['rate<0.01'],
    dropped_iterations: ['count==0'],
    'http_req_duration{name:GET /articles}': ['p(95)<100'],
    'http_req_duration{name:GET /articles/:id}': ['p(95)<50'],
    'http_req_duration{name:GET /participations/articles/:articleId}': ['p(95)<50'],
    checks: ['rate>0.99'],
  },
};

export function setup() {
  /** @type {string[]} */
  const tokens = [];
  for (let i = 1; i <= Math.min(TOKENS, MEMBERS); i++) tokens.push(signIn(i));
  return { tokens: tokens };
}

/** @param {{ tokens: string[] }} data */
export default function (data) {
  const pick = Math.random();
  if (pick < 0.5) {
    const res = http.get(BASE_URL + '/articles?limit=20', { tags: { name: 'GET /articles' } });
    expectStatus(res, 200, 'GET /articles');
  } else if (pick < 0.8) {
    const res = http.get(BASE_URL + '/articles/' + randomId(ARTICLES), { tags: { name: 'GET /articles/:id' } });
    expectStatus(res, 200, 'GET /articles/:id');
  } else {
    const token = data.tokens[randomId(data.tokens.length) - 1] || '';
    const route = 'GET /participations/articles/:articleId';
    const res = http.get(BASE_URL + '/participations/articles/' + randomId(ARTICLES), authorized(token, route));
    expectStatus(res, 200, route);
  }
}

/** @param {import('./lib/summary.js').SummaryData} data */
export function handleSummary(data) {
  return summaryFiles('steady', data);
}
