export { DbPool, type TxConnection } from './database.js';
export { DeadlineExceededError, operationDeadline } from './deadline.js';
export { type DbPoolEvents, type PoolLifecycle, type PoolOptions } from './pool.js';
export { type PoolStats } from './stats.js';
export {
  PoolUnavailableError,
  PoolWarmError,
  errorCode,
  isDeadConnectionError,
  isDuplicateEntry,
  isTransientConnectError,
  isUnavailableError,
  missingReference,
  type PoolUnavailableCode,
  type PoolWarmCode,
} from './errors.js';
