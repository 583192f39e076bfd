// Errors the pool raises, and how it classifies the driver's errors.

export type PoolUnavailableCode = 'ACQUIRE_TIMEOUT' | 'QUEUE_FULL' | 'POOL_CLOSED';

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
// not up yet, restarting, or slow. Anything else (bad credentials, unknown database) needs a fix.
const TRANSIENT_CONNECT_CODES = new Set([
  'ER_CON_COUNT_ERROR',
  'ETIMEDOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
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
