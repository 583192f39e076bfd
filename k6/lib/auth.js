// @ts-check
import http from 'k6/http';
import { BASE_URL } from './config.js';

export const JSON_HEADERS = { 'Content-Type': 'application/json' };

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
 * Signs in as the seeded member `id`; both tokens. Throws when that fails.
 * @param {number} id
 * @returns {TokenPair}
 */
export function signInPair(id) {
  const res = http.post(
    BASE_URL + '/auth/sign-in',
    JSON.stringify({ email: 'member' + id + '@example.com', password: 'password' + id }),
    { headers: JSON_HEADERS, tags: { name: 'POST /auth/sign-in' } },
  );
  if (res.status !== 200) {
    throw new Error('sign-in as member ' + id + ' answered ' + res.status + ': ' + String(res.body));
  }
  return /** @type {TokenPair} */ (res.json());
}

/**
 * Tokens minted by `pnpm k6:tokens --count N` (TOKENS_FILE, read once per VU at init): scenarios
 * then start without a scrypt sign-in per member. Entry i is member i + 1.
 * @returns {TokenPair[]}
 */
export function tokensFile() {
  const path = __ENV.TOKENS_FILE;
  return path ? /** @type {TokenPair[]} */ (JSON.parse(open(path))) : [];
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
