export { DbPool, type DbPoolEvents, type PoolOptions, type PoolStats, type TxConnection } from './pool.js';
export {
  PoolUnavailableError,
  PoolWarmError,
  isDeadConnectionError,
  isUnavailableError,
  missingReference,
  type PoolUnavailableCode,
  type PoolWarmCode,
} from './errors.js';
