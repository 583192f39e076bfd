// Timing rules between the pool's timeouts and the server's, checked at start and by the CLI.

export interface TimingInput {
  /** The server's wait_timeout, in seconds: it closes connections idle for longer. */
  readonly waitTimeoutS: number;
  readonly maxLifetimeMs: number;
  readonly connectTimeoutMs: number;
  readonly acquireTimeoutMs: number;
  /** The HTTP request timeout; acquiring a connection and running a statement must fit inside it. */
  readonly requestTimeoutMs?: number | undefined;
  /** The statement deadline (DB_QUERY_TIMEOUT_MS). */
  readonly queryTimeoutMs?: number | undefined;
  /** How far below wait_timeout the lifetime must stay; default 30 s. */
  readonly marginMs?: number | undefined;
}

export const DEFAULT_LIFETIME_MARGIN_MS = 30_000;

/** Returns the violated rules, each naming both values; empty when the timings are consistent. */
export function checkTiming(t: TimingInput): string[] {
  const errors: string[] = [];
  const margin = t.marginMs ?? DEFAULT_LIFETIME_MARGIN_MS;
  const limit = t.waitTimeoutS * 1000 - margin;
  if (!(t.maxLifetimeMs < limit)) {
    errors.push(
      `max lifetime ${t.maxLifetimeMs} ms must be below wait_timeout ${t.waitTimeoutS} s - margin ${margin} ms = ${limit} ms,` +
        ' or the server closes connections the pool still thinks are alive',
    );
  }
  if (!(t.connectTimeoutMs < t.acquireTimeoutMs)) {
    errors.push(
      `connect timeout ${t.connectTimeoutMs} ms must be below acquire timeout ${t.acquireTimeoutMs} ms,` +
        ' so a replacement connection can be made while a request waits',
    );
  }
  if (t.requestTimeoutMs !== undefined && !(t.acquireTimeoutMs <= t.requestTimeoutMs)) {
    errors.push(
      `acquire timeout ${t.acquireTimeoutMs} ms must not exceed request timeout ${t.requestTimeoutMs} ms,` +
        ' or a waiting request is cut off before it can be told 503',
    );
  }
  if (
    t.requestTimeoutMs !== undefined &&
    t.queryTimeoutMs !== undefined &&
    !(t.acquireTimeoutMs + t.queryTimeoutMs <= t.requestTimeoutMs)
  ) {
    errors.push(
      `acquire timeout ${t.acquireTimeoutMs} ms + query timeout ${t.queryTimeoutMs} ms must not exceed request timeout ${t.requestTimeoutMs} ms,` +
        ' or a request waiting on the database outlives its deadline',
    );
  }
  return errors;
}

/**
 * innodb_lock_wait_timeout for a statement deadline: half of it in whole seconds, at least 1, so a
 * write blocked on a hot row gives its connection back (1205, answered 503) well before the
 * statement limit, and one locked row cannot hold the pool for long.
 */
export function lockWaitTimeoutS(queryTimeoutMs: number): number {
  return Math.max(1, Math.floor(queryTimeoutMs / 2_000));
}
