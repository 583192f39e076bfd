// The database pool, sized against the server it finds (like @fastify/mysql, a server that cannot
// be reached or a plan that does not fit fails at registration, so a bad config shows at boot).
import { connectionOptions, readReserve, redactUrl, type ApiConfig } from '@mokakbab/config';
import type { FastifyBaseLogger } from 'fastify';
import fp from 'fastify-plugin';
import type { Logger } from 'pino';
import { DbPool } from '../../db/index.js';
import { sessionSql } from '../../db/session.js';
import { decidePoolSize, readLimitsWithRetry } from '../../db/sizing.js';

declare module 'fastify' {
  interface FastifyInstance {
    db: DbPool;
  }
}

/**
 * One server's pool, planned the way every pool is: its limits read with retries, the size decided
 * against its own max_connections (DB_PLAN_CHECK applies), its session deadlines for its version.
 */
export async function openPlannedPool(
  config: ApiConfig,
  url: ApiConfig['databaseUrl'],
  log: FastifyBaseLogger,
  role: 'primary' | 'replica',
): Promise<DbPool> {
  const serverConfig = { ...config, databaseUrl: url };
  const limits = await readLimitsWithRetry(serverConfig, log);
  const size = decidePoolSize(serverConfig, limits, log, role);
  if (role === 'replica') log.info({ url: redactUrl(url), size, version: limits.version }, 'replica pool');
  return new DbPool({
    // mysql2 gives every connection an LRU of prepared statements sized for 16,000 (its default),
    // allocated up front: about 0.5 MB of heap per connection (25 MB at a pool of 50, 150 MB at
    // 300; the heap snapshot of the bench's mixed run). The API never prepares (`query`, not
    // `execute`: db/database.ts), so the smallest cache mysql2 accepts (0 means its default).
    connection: { ...connectionOptions(url, config.databaseCa), maxPreparedStatements: 1 },
    size,
    warmConcurrency: config.warmConcurrency,
    connectTimeoutMs: config.connectTimeoutMs,
    acquireTimeoutMs: config.acquireTimeoutMs,
    queueLimit: config.queueLimit,
    // A replica takes reads only; on the primary, writers waiting on a hot row's locks leave these to reads.
    readReserve: role === 'primary' ? readReserve(size, config.readReservePercent) : 0,
    maxLifetimeMs: config.maxLifetimeMs,
    lifetimeJitterMs: config.lifetimeJitterMs,
    warmTimeoutMs: config.warmTimeoutMs,
    queryTimeoutMs: config.queryTimeoutMs,
    sessionSql: sessionSql(limits.version, config.queryTimeoutMs),
    // Fastify's logger is a pino instance; its public type is the narrower FastifyBaseLogger.
    logger: (role === 'primary' ? log.child({ component: 'pool' }) : log) as unknown as Logger,
  });
}

export default fp(
  async function dbPlugin(fastify) {
    const { config } = fastify;
    const pool = await openPlannedPool(config, config.databaseUrl, fastify.log, 'primary');
    fastify.decorate('db', pool);
    // Runs after the HTTP server has drained (Fastify closes the server first), so in-flight
    // requests keep their connections to the end.
    fastify.addHook('onClose', () => pool.close());
  },
  { name: 'db', dependencies: ['config'] },
);
