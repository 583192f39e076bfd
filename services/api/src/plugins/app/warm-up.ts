// `fastify.warmUp()`: fill and validate the pool, load the jti denylist, run the hot read routes
// in-process, then mark the instance ready. Used at boot (WARM_ON_BOOT) and by `POST /pool/warm`;
// concurrent calls share the pool's in-flight warm-up.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import type { PoolStats } from '../../db/index.js';

declare module 'fastify' {
  interface FastifyInstance {
    warmUp: () => Promise<PoolStats>;
  }
}

/** In-flight injected requests during the self-warm: enough to exercise the pool's hand-off, not to queue. */
const SELF_WARM_CONCURRENCY = 8;
/** The self-warm stops after this long whatever is left: slow statements must not hold readiness back. */
export const SELF_WARM_BUDGET_MS = 5_000;

/**
 * A full pool is not yet "ready for the burst": the first thousands of requests of a fresh process
 * also pay for JIT compilation, lazy initialisation (serializers, validators, the driver's parsers)
 * and first-use allocations, which showed as a first-seconds p99 several times the steady one. Run
 * the hot routes `perRoute` times each through the whole stack (hooks, auth, validation, handler,
 * pool, serialisation) first. Statuses do not matter (an empty database answers 404), only the code
 * that ran. Bounded by SELF_WARM_BUDGET_MS.
 */
async function selfWarm(
  fastify: FastifyInstance,
  perRoute: number,
): Promise<{ statuses: Record<string, number>; sent: number; planned: number }> {
  const statuses: Record<string, number> = {};
  // The newest article by primary key (a backward index dive, whatever the page statement costs).
  const [top] = await fastify.db.read<{ id: number; member_id: number }[]>(
    'SELECT id, member_id FROM article ORDER BY id DESC LIMIT 1',
  );
  const articleId = top?.id ?? 1;
  // A token of a real member when there is one: the same verification and claims as a client's.
  const token = fastify.jwt.sign({ sub: String(top?.member_id ?? 1), jti: randomUUID() });
  const requests = [
    { method: 'GET' as const, url: '/articles?limit=20' },
    { method: 'GET' as const, url: `/articles/${articleId}` },
    {
      method: 'GET' as const,
      url: `/participations/articles/${articleId}?limit=20`,
      headers: { authorization: `Bearer ${token}` },
    },
  ];
  let next = 0;
  const total = perRoute * requests.length;
  const deadline = performance.now() + SELF_WARM_BUDGET_MS;
  async function worker(): Promise<void> {
    while (next < total && performance.now() < deadline) {
      const res = await fastify.inject(requests[next++ % requests.length]!);
      statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
    }
  }
  await Promise.all(Array.from({ length: SELF_WARM_CONCURRENCY }, worker));
  return { statuses, sent: next, planned: total };
}

export default fp(
  async function warmUpPlugin(fastify) {
    const { db, replicas, denylist, readiness, metrics, log, config } = fastify;
    let denylistStarted: Promise<void> | undefined;
    let selfWarmed = false;

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
        // Ready needs the primary and DB_REPLICAS_REQUIRED replica pools warm.
        await replicas?.warm();
        await startDenylist();
      } catch (err) {
        const { code, message } = err as { code?: string; message?: string };
        log.warn({ code, message, pool: db.stats(), replicas: replicas?.stats() }, 'pool warm-up failed');
        throw err;
      }
      // Once per process: compiled code stays compiled when the pool is warmed again.
      if (!selfWarmed && config.warmRequests > 0) {
        const selfWarmStartedAt = performance.now();
        const { statuses, sent, planned } = await selfWarm(fastify, config.warmRequests);
        selfWarmed = true;
        const ms = Math.round(performance.now() - selfWarmStartedAt);
        if (sent < planned)
          log.warn({ sent, planned, ms }, 'self-warm stopped at its time budget: the hot routes are slow');
        log.info({ statuses, ms }, 'hot routes warmed');
      }
      readiness.markWarm();
      metrics.warmDuration.observe((performance.now() - startedAt) / 1000);
      const stats = db.stats();
      log.info(stats, 'pool warm');
      return stats;
    });
  },
  { name: 'warm-up', dependencies: ['db', 'replicas', 'auth', 'readiness', 'metrics', 'config', 'jwt'] },
);
