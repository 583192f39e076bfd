// Read replicas (DATABASE_REPLICA_URLS): one warm, fixed-size pool per replica, each planned
// against that server's own max_connections, and the router that sends idempotent reads to them
// (db/replicas.ts). Without replicas nothing is registered: every statement stays on the primary.
import { connectionOptions, redactUrl } from '@mokakbab/config';
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Logger } from 'pino';
import { DbPool } from '../../db/index.js';
import { ReplicaRouter } from '../../db/replicas.js';
import { sessionSql } from '../../db/session.js';
import { decidePoolSize, readLimitsWithRetry } from '../../db/sizing.js';

declare module 'fastify' {
  interface FastifyInstance {
    replicas: ReplicaRouter | null;
  }
}

const IDEMPOTENT = new Set(['GET', 'HEAD']);

// request.user is typed as always there, but it is only set by the authenticate hook.
function memberOf(request: FastifyRequest): number | undefined {
  return (request.user as { id: number } | null | undefined)?.id;
}

export default fp(
  async function replicasPlugin(fastify) {
    const { config, db } = fastify;
    if (config.replicaUrls.length === 0) {
      fastify.decorate('replicas', null);
      return;
    }
    const servers = await Promise.all(
      config.replicaUrls.map(async (url) => {
        const server = url.host;
        const log = fastify.log.child({ component: 'replica', server });
        // The same start-up rules as the primary's: limits read with retries, the plan checked.
        const replicaConfig = { ...config, databaseUrl: url };
        const limits = await readLimitsWithRetry(replicaConfig, log);
        const size = decidePoolSize(replicaConfig, limits, log, 'replica');
        const pool = new DbPool({
          connection: connectionOptions(url, config.databaseCa),
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
          logger: log as unknown as Logger,
        });
        log.info({ url: redactUrl(url), size }, 'replica pool');
        return { server, pool, version: limits.version };
      }),
    );
    const router = new ReplicaRouter({
      primary: db,
      replicas: servers,
      // The GTID dialect is the primary's; replicas of a MariaDB primary are MariaDB.
      flavor: /mariadb/i.test(servers[0]!.version) ? 'mariadb' : 'mysql',
      maxLagMs: config.replicaMaxLagMs,
      required: config.replicasRequired ?? servers.length,
      logger: fastify.log.child({ component: 'replicas' }) as unknown as Logger,
    });
    db.routeReads(router);
    fastify.decorate('replicas', router);
    // preValidation, after the body is parsed: a scope entered earlier would not survive the
    // body parser's callbacks (as @fastify/request-context documents).
    fastify.addHook('preValidation', (request, _reply, done) => {
      router.scope.run({ write: !IDEMPOTENT.has(request.method), member: () => memberOf(request) }, done);
    });
    fastify.addHook('onResponse', (request, _reply, done) => {
      const member = memberOf(request);
      if (member !== undefined && !IDEMPOTENT.has(request.method)) router.noteWrite(member);
      done();
    });
    // Runs before the primary pool closes (onClose is last-registered first); the probe stops first.
    fastify.addHook('onClose', () => router.close());
  },
  { name: 'replicas', dependencies: ['db', 'config'] },
);
