// Shared by the pool tests: a pool with small test defaults, and a bounded wait for a condition.
import pino from 'pino';
import { connectionOptions } from '@mokakbab/config';
import { DbPool, type PoolOptions } from '../src/db/index.js';

export function makePool(url: URL, overrides: Partial<PoolOptions> = {}): DbPool {
  return new DbPool({
    connection: connectionOptions(url),
    size: 4,
    warmConcurrency: 2,
    connectTimeoutMs: 1_500,
    acquireTimeoutMs: 2_000,
    queueLimit: 100,
    maxLifetimeMs: 60_000,
    lifetimeJitterMs: 5_000,
    warmTimeoutMs: 10_000,
    queryTimeoutMs: 5_000,
    logger: pino({ level: 'silent' }),
    ...overrides,
  });
}
