// Read replicas (DATABASE_REPLICA_URLS): one warm, fixed-size pool per replica, each planned
// against that server's own max_connections, and the router that sends idempotent reads to them
// (db/replicas.ts). Without replicas nothing is registered: every statement stays on the primary.
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Logger } from 'pino';
import type { DbPool } from '../../db/index.js';
import { ReplicaRouter } from '../../db/replicas.js';
import { openPlannedPool } from './db.js';
import { StartupError } from '../../errors.js';

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

/**
 * Resolves once `count` of the promises fulfilled; rejects with the first StartupError (a refused
 * plan), or once too many rejected for `count` to be reached. Every rejection is handled.
 */
function firstFulfilled(promises: readonly Promise<unknown>[], count: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let fulfilled = 0;
    let rejected = 0;
    if (count === 0) resolve();
    for (const p of promises) {
      p.then(
        () => {
          if (++fulfilled === count) resolve();
        },
        (err: Error) => {
          if (err instanceof StartupError || ++rejected > promises.length - count) reject(err);
        },
      );
    }
  });
}

export default fp(
  async function replicasPlugin(fastify) {
    const { config, db } = fastify;
    if (config.replicaUrls.length === 0) {
      fastify.decorate('replicas', null);
      return;
    }
    const required = config.replicasRequired ?? config.replicaUrls.length;
    const sources = config.replicaUrls.map((url) => {
      const server = url.host;
      const log = fastify.log.child({ component: 'replica', server });
      // The primary's start-up rules: limits read with retries, the plan checked (DB_PLAN_CHECK).
      const open = (): Promise<DbPool> => openPlannedPool(config, url, log, 'replica');
      return { server, open, opening: open() };
    });
    // Like the primary's, a replica plan that does not fit refuses the start; the start waits for
    // the DB_REPLICAS_REQUIRED replicas it needs, the others join when they answer.
    try {
      await firstFulfilled(
        sources.map((s) => s.opening),
        required,
      );
    } catch (err) {
      // Pools made, or still being made, for a start that does not happen are closed.
      for (const s of sources)
        void s.opening.then(
          (pool) => pool.close(),
          () => undefined,
        );
      throw err;
    }
    const router = new ReplicaRouter({
      primary: db,
      replicas: sources,
      maxLagMs: config.replicaMaxLagMs,
      required,
      logger: fastify.log.child({ component: 'replicas' }) as unknown as Logger,
    });
    db.routeReads(router);
    fastify.decorate('replicas', router);
    // preHandler: after the body is parsed and after the request deadline's scope is re-entered
    // (preValidation, overload.ts), which would drop a store entered before it.
    fastify.addHook('preHandler', (request, _reply, done) => {
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
