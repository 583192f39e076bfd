// Errors the pool raises, and how it classifies the driver's errors.

export type PoolUnavailableCode = 'ACQUIRE_TIMEOUT' | 'QUEUE_FULL' | 'POOL_CLOSED' | 'DATABASE_DOWN';

/** No connection could be had: the HTTP layer answers 503 with `Retry-After: retryAfterS`. */
export class PoolUnavailableError extends Error {
  readonly code: PoolUnavailableCode;
  readonly retryAfterS: number;

  constructor(code: PoolUnavailableCode, message: string, retryAfterS = 1) {
    super(message);
    this.name = 'PoolUnavailableError';
    this.code = code;
    this.retryAfterS = retryAfterS;
  }
}

/**
 * The client-side statement deadline passed without an answer (a stopped or unreachable server):
 * the connection was destroyed. `fatal`, as mysql2 marks errors after which a connection is unusable.
 */
export class StatementTimeoutError extends Error {
  readonly code = 'STATEMENT_TIMEOUT';
  readonly fatal = true;
  readonly timeoutMs: number;

  constructor(timeoutMs: number) {
    super(`the database did not answer the statement within ${timeoutMs} ms`);
    this.name = 'StatementTimeoutError';
    this.timeoutMs = timeoutMs;
  }
}

export type PoolWarmCode = 'WARM_TIMEOUT' | 'WARM_FAILED' | 'POOL_CLOSED';

/**
 * A warm-up did not fill the pool: it timed out (the pool keeps trying in the background), hit an
 * error retrying cannot fix (bad password, unknown database), or the pool was closed meanwhile.
 */
export class PoolWarmError extends Error {
  readonly code: PoolWarmCode;

  constructor(code: PoolWarmCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PoolWarmError';
    this.code = code;
  }
}

interface DriverError {
  code?: unknown;
  errno?: unknown;
  fatal?: unknown;
}

/** The error's code for stats (`ER_CON_COUNT_ERROR`, `ECONNREFUSED`, ...); `UNKNOWN` when it has none. */
export function errorCode(err: unknown): string {
  const code = (err as DriverError | null)?.code;
  return typeof code === 'string' && code !== '' ? code : 'UNKNOWN';
}

// Failures of the connect itself that a later attempt can get past: the server is full (1040),
// not up yet, restarting, slow, or its name does not resolve yet (a DNS record that appears with
// the database's pod). Anything else (bad credentials, unknown database) needs a fix.
const TRANSIENT_CONNECT_CODES = new Set([
  'ER_CON_COUNT_ERROR',
  'ETIMEDOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
  'PROTOCOL_CONNECTION_LOST',
  'ER_SERVER_SHUTDOWN',
]);
// 1040 too many connections, 1203 max_user_connections, 1053 server shutdown, 1927 killed (MariaDB).
const TRANSIENT_CONNECT_ERRNOS = new Set([1040, 1203, 1053, 1927]);

export function isTransientConnectError(err: unknown): boolean {
  const { code, errno } = (err ?? {}) as DriverError;
  return (
    (typeof code === 'string' && TRANSIENT_CONNECT_CODES.has(code)) ||
    (typeof errno === 'number' && TRANSIENT_CONNECT_ERRNOS.has(errno))
  );
}

/** The server refused another connection because it has as many as it allows (1040, 1203). */
export function isServerFullError(err: unknown): boolean {
  const { code, errno } = (err ?? {}) as DriverError;
  return code === 'ER_CON_COUNT_ERROR' || code === 'ER_TOO_MANY_USER_CONNECTIONS' || errno === 1040 || errno === 1203;
}

const DEAD_CONNECTION_CODES = new Set([
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ER_SERVER_SHUTDOWN',
  'ER_CONNECTION_KILLED',
  'ER_CLIENT_INTERACTION_TIMEOUT',
]);
// 2006 server gone, 2013 lost during query, 1927 killed (MariaDB), 4031 idle timeout (MySQL 8),
// 1053 server shutdown.
const DEAD_CONNECTION_ERRNOS = new Set([2006, 2013, 1927, 4031, 1053]);

/**
 * The connection is unusable: the driver marked the error fatal (socket closed, protocol broken)
 * or the server said the session is gone. A statement error (syntax, duplicate key) is not.
 */
export function isDeadConnectionError(err: unknown): boolean {
  const { code, errno, fatal } = (err ?? {}) as DriverError;
  return (
    fatal === true ||
    (typeof code === 'string' && DEAD_CONNECTION_CODES.has(code)) ||
    (typeof errno === 'number' && DEAD_CONNECTION_ERRNOS.has(errno))
  );
}

// The server's condition, not the statement's fault: the same statement can succeed on a retry.
// Client-side codes carry no errno, so they are matched by code.
const UNAVAILABLE_CODES = new Set([
  ...TRANSIENT_CONNECT_CODES,
  ...DEAD_CONNECTION_CODES,
  'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR',
  'ER_LOCK_DEADLOCK',
  'ER_LOCK_WAIT_TIMEOUT',
  'ER_QUERY_INTERRUPTED',
  'ER_OPTION_PREVENTS_STATEMENT',
  'ER_READ_ONLY_MODE',
  'ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION',
  'ER_QUERY_TIMEOUT',
  'ER_STATEMENT_TIMEOUT',
]);
// 1205 lock wait timeout, 1213 deadlock, 1317 query interrupted, 1290 read-only (after a
// failover), 1836 read-only mode, 1792 read-only transaction, 3024 max_execution_time (MySQL),
// 1969 max_statement_time (MariaDB).
const UNAVAILABLE_ERRNOS = new Set([
  ...TRANSIENT_CONNECT_ERRNOS,
  ...DEAD_CONNECTION_ERRNOS,
  1205,
  1213,
  1317,
  1290,
  1836,
  1792,
  3024,
  1969,
]);

/**
 * The one classification the HTTP layer uses for 503 + Retry-After: the database cannot be
 * reached, the connection broke, or the server refused the statement for a reason a retry can get
 * past (lock contention, read-only after a failover, a statement time limit).
 */
export function isUnavailableError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { code, errno } = err as DriverError;
  return (
    isDeadConnectionError(err) ||
    (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) ||
    (typeof errno === 'number' && UNAVAILABLE_ERRNOS.has(errno))
  );
}

export function isDuplicateEntry(err: unknown): boolean {
  return (err as DriverError | null)?.code === 'ER_DUP_ENTRY';
}

/** The foreign key an ER_NO_REFERENCED_ROW_2 names (`fk_participation_member`), or undefined. */
export function missingReference(err: unknown): string | undefined {
  const { code, message } = (err ?? {}) as DriverError & { message?: unknown };
  if (code !== 'ER_NO_REFERENCED_ROW_2' || typeof message !== 'string') return undefined;
  return /CONSTRAINT `([^`]+)`/.exec(message)?.[1] ?? '';
}
