// Shared by the pool tests: a pool with small test defaults, and a bounded wait for a condition.
import assert from 'node:assert/strict';
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
    logger: pino({ level: 'silent' }),
    ...overrides,
  });
}

export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
