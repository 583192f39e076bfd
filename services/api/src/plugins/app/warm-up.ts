// `fastify.warmUp()`: fill and validate the pool, load the jti denylist, then mark the instance
// ready. Used at boot (WARM_ON_BOOT) and by `POST /pool/warm`; concurrent calls share the pool's
// in-flight warm-up.
import { performance } from 'node:perf_hooks';
import fp from 'fastify-plugin';
import type { PoolStats } from '../../db/index.js';

declare module 'fastify' {
  interface FastifyInstance {
    warmUp: () => Promise<PoolStats>;
  }
}

export default fp(
  async function warmUpPlugin(fastify) {
    const { db, denylist, readiness, metrics, log } = fastify;
    let denylistStarted: Promise<void> | undefined;

    // Ready means revoked tokens are known too; a failed load is retried by the next warm-up.
    function startDenylist(): Promise<void> {
      denylistStarted ??= denylist.start().catch((err: unknown) => {
        denylistStarted = undefined;
        throw err;
      });
      return denylistStarted;
    }

    fastify.decorate('warmUp', async function warmUp(): Promise<PoolStats> {
      const startedAt = performance.now();
      try {
        await db.warm();
        await startDenylist();
      } catch (err) {
        const { code, message } = err as { code?: string; message?: string };
        log.warn({ code, message, pool: db.stats() }, 'pool warm-up failed');
        throw err;
      }
      readiness.markWarm();
      metrics.warmDuration.observe((performance.now() - startedAt) / 1000);
      const stats = db.stats();
      log.info(stats, 'pool warm');
      return stats;
    });
  },
  { name: 'warm-up', dependencies: ['db', 'auth', 'readiness', 'metrics'] },
);
