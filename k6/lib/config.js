// @ts-check
// Settings from `k6 run -e NAME=value` (or the environment), with defaults that match a local
// `pnpm dev` (seeded data, API on port 3000). Plain ES2015: old k6 versions run these scripts too.

/**
 * @param {string} name
 * @param {string} fallback
 * @returns {string}
 */
export function envString(name, fallback) {
  const value = __ENV[name];
  return value === undefined || value === '' ? fallback : value;
}

/**
 * @param {string} name
 * @param {number} fallback
 * @returns {number}
 */
export function envInt(name, fallback) {
  const raw = envString(name, String(fallback));
  const value = parseInt(raw, 10);
  if (isNaN(value) || String(value) !== raw.trim()) throw new Error(name + '=' + raw + ' is not an integer');
  return value;
}

/** The API's public port; in Compose http://api:3000. */
export const BASE_URL = envString('BASE_URL', 'http://127.0.0.1:3000').replace(/\/+$/, '');
/** Seeded members 1..MEMBERS sign in as member{N}@example.com / password{N}. */
export const MEMBERS = envInt('MEMBERS', 1000);
/** Seeded articles 1..ARTICLES. */
export const ARTICLES = envInt('ARTICLES', 500);
/** The article whose participants the spike reads (the endpoint the original load test hammered). */
export const ARTICLE_ID = envInt('ARTICLE_ID', 1);
