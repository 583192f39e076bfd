/*
 * One deadline over all the database work of a request (issue 8): every acquire and statement
 * uses the smaller of its own limit and the time left, and no operation starts once it is gone.
 *
 * Carried in an AsyncLocalStorage rather than passed as an argument: a request reaches the pool
 * through a dozen repositories and services (denylist, verification, tokens) whose signatures
 * would all grow a parameter that every caller must remember; the store follows the request's
 * async chain by itself, and work outside a request (boot, polls) simply has no deadline.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** performance.now() by which the current request's database work must be done. */
const storage = new AsyncLocalStorage<number>();

export const operationDeadline = {
  /** Runs `fn` (and everything it starts) under the deadline `at` (performance.now() time). */
  run<T>(at: number, fn: () => T): T {
    return storage.run(at, fn);
  },
  /** The current deadline, or undefined outside a request. */
  at(): number | undefined {
    return storage.getStore();
  },
};

/** The request's deadline passed: nothing more is started (503 DEADLINE_EXCEEDED with Retry-After). */
export class DeadlineExceededError extends Error {
  readonly code = 'DEADLINE_EXCEEDED';
  readonly retryAfterS = 1;

  constructor(options?: { cause?: unknown }) {
    super('The request ran out of time for its database work; retry shortly.', options);
    this.name = 'DeadlineExceededError';
  }
}
