// @ts-check
import { check } from 'k6';

/**
 * Records whether the response has the expected status (the `checks` rate metric).
 * @param {import('k6/http').RefinedResponse<any>} res
 * @param {number} status
 * @param {string} name
 * @returns {boolean}
 */
export function expectStatus(res, status, name) {
  /** @type {Record<string, (r: import('k6/http').RefinedResponse<any>) => boolean>} */
  const sets = {};
  sets[name + ' is ' + status] = function (r) {
    return r.status === status;
  };
  return check(res, sets);
}

/**
 * Picks an integer from 1 to max, inclusive.
 * @param {number} max
 * @returns {number}
 */
export function randomId(max) {
  return 1 + Math.floor(Math.random() * max);
}
