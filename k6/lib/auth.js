// @ts-check
import { sleep } from 'k6';
import { SharedArray } from 'k6/data';
import http from 'k6/http';
import { Counter, Trend } from 'k6/metrics';
import { expectStatus } from './checks.js';
import { BASE_URL, envInt } from './config.js';

export const JSON_HEADERS = { 'Content-Type': 'application/json' };

export const SIGN_IN = 'POST /auth/sign-in';

/**
 * Sign-in answers a real client waits out and retries, by the answer's `code`: HASHING_BUSY (503:
 * more sign-ins at once than PASSWORD_HASH_MAX_CONCURRENT, by design), RATE_LIMITED (429: the API
 * runs without k6/load.env, so every scenario fails on it), DATABASE_BUSY and the like.
 */
export const signInRejected = new Counter('sign_in_rejected');
/** From a sign-in's first attempt to its token, Retry-After waits included: what a user waits. */
export const signInTime = new Trend('sign_in_time', true);

/**
 * The thresholds every scenario that signs in carries: a 429 means the API was started without the
 * load configuration (k6/load.env), and what the run measured is the rate limit. HASHING_BUSY has
 * no bound (more VUs than the cap meet it by design); listed so the summary shows its count.
 * @type {Record<string, string[]>}
 */
export const SIGN_IN_THRESHOLDS = {
  'sign_in_rejected{reason:RATE_LIMITED}': ['count==0'],
  'sign_in_rejected{reason:HASHING_BUSY}': [],
};

// 429 and 503 with Retry-After are answers this client handles (it waits and tries again), so they
// do not count in http_req_failed; sign_in_rejected counts them instead. Only the sign-in request
// gets this callback: on every other route a 429 or 503 is a failure.
const SIGN_IN_ANSWERS = http.expectedStatuses(200, 429, 503);
/** Retry-After waits one sign-in may add up before it gives up (a 429 says up to a whole window). */
const SIGN_IN_MAX_WAIT_S = envInt('SIGN_IN_MAX_WAIT_S', 30);

/**
 * Signs in as the seeded member `id` and returns its access token; throws when that fails, so a
 * setup() with wrong data stops the run instead of measuring 401s.
 * @param {number} id
 * @returns {string}
 */
export function signIn(id) {
  return signInPair(id).accessToken;
}

/**
 * @typedef {{ accessToken: string, refreshToken: string }} TokenPair
 */

/**
 * Signs in as the seeded member `id`; both tokens. A 429 or 503 with Retry-After is counted in
 * `sign_in_rejected{reason}` and retried after that many seconds (plus up to half again, so VUs
 * turned away together do not come back together), up to SIGN_IN_MAX_WAIT_S in all. The last
 * answer is a check (`POST /auth/sign-in is 200`); anything but 200 then throws.
 * @param {number} id
 * @returns {TokenPair}
 */
export function signInPair(id) {
  const started = Date.now();
  let waitedS = 0;
  for (;;) {
    const res = http.post(
      BASE_URL + '/auth/sign-in',
      JSON.stringify({ email: 'member' + id + '@example.com', password: 'password' + id }),
      { headers: JSON_HEADERS, tags: { name: SIGN_IN }, responseCallback: SIGN_IN_ANSWERS },
    );
    const retryAfterS = res.status === 429 || res.status === 503 ? parseInt(res.headers['Retry-After'], 10) : NaN;
    const waitS = retryAfterS * (1 + Math.random() / 2);
    if (!isNaN(waitS) && waitedS + waitS <= SIGN_IN_MAX_WAIT_S) {
      signInRejected.add(1, { reason: errorCode(res) });
      sleep(waitS);
      waitedS += waitS;
      continue;
    }
    if (!expectStatus(res, 200, SIGN_IN)) {
      if (!isNaN(retryAfterS)) signInRejected.add(1, { reason: errorCode(res) });
      throw new Error('sign-in as member ' + id + ' answered ' + res.status + ': ' + String(res.body));
    }
    signInTime.add(Date.now() - started);
    return /** @type {TokenPair} */ (res.json());
  }
}

/**
 * The `code` of the API's error body, else the status (a proxy's page is no JSON).
 * @param {import('k6/http').RefinedResponse<any>} res
 * @returns {string}
 */
function errorCode(res) {
  const match = /"code"\s*:\s*"([A-Z_]+)"/.exec(String(res.body));
  return match ? match[1] : String(res.status);
}

/**
 * Tokens minted by `pnpm k6:tokens --count N` (TOKENS_FILE, read once and shared by every VU):
 * scenarios then start without a scrypt sign-in per member. Entry i is member i + 1.
 * @returns {readonly TokenPair[]}
 */
export function tokensFile() {
  const path = __ENV.TOKENS_FILE;
  if (!path) return [];
  return new SharedArray('tokens', function () {
    return /** @type {TokenPair[]} */ (JSON.parse(open(path)));
  });
}

/**
 * Request params with the bearer token and a stable metric name for the route.
 * @param {string} token
 * @param {string} name
 * @returns {import('k6/http').RefinedParams<'text'>}
 */
export function authorized(token, name) {
  return { headers: { Authorization: 'Bearer ' + token }, tags: { name: name } };
}
