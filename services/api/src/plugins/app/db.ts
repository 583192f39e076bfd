// The database pool, sized against the server it finds (like @fastify/mysql, a server that cannot
// be reached or a plan that does not fit fails at registration, so a bad config shows at boot).
import { connectionOptions } from '@mokakbab/config';
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

export default fp(
  async function dbPlugin(fastify) {
    const { config } = fastify;
    const limits = await readLimitsWithRetry(config, fastify.log);
    const size = decidePoolSize(config, limits, fastify.log);
    const pool = new DbPool({
      connection: connectionOptions(config.databaseUrl, config.databaseCa),
      size,
      warmConcurrency: config.warmConcurrency,
      connectTimeoutMs: config.connectTimeoutMs,
      acquireTimeoutMs: config.acquireTimeoutMs,
      queueLimit: config.queueLimit,
      maxLifetimeMs: config.maxLifetimeMs,
      lifetimeJitterMs: config.lifetimeJitterMs,
      warmTimeoutMs: config.warmTimeoutMs,
      queryTimeoutMs: config.queryTimeoutMs,
      sessionSql: sessionSql(limits.version, config.queryTimeoutMs),
      // Fastify's logger is a pino instance; its public type is the narrower FastifyBaseLogger.
      logger: fastify.log.child({ component: 'pool' }) as unknown as Logger,
    });
    fastify.decorate('db', pool);
    // Runs after the HTTP server has drained (Fastify closes the server first), so in-flight
    // requests keep their connections to the end.
    fastify.addHook('onClose', () => pool.close());
  },
  { name: 'db', dependencies: ['config'] },
);
