// The admin instance (ADMIN_HOST:ADMIN_PORT, loopback by default): pool stats, warm-up on demand
// for the warmer, and Prometheus metrics (also on the metrics port, metrics-server.ts). A second
// Fastify instance so none of it is public.
import Fastify, { type FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { errorHandler, notFoundHandler } from '../errors.js';
import { metricsHandler } from './metrics-server.js';
import { PoolStatsResponse, WarmFailedResponse } from '../schemas/pool.js';
import { serverOptions } from '../lifecycle/server-options.js';
import type { Logger } from 'pino';

const WARM_RETRY_AFTER_S = 1;

/** `metrics` (the metrics port, when there is one) closes with the admin app: shutdown stays one sequence. */
export async function buildAdmin(
  app: FastifyInstance,
  logger: Logger,
  metrics?: FastifyInstance,
): Promise<FastifyInstance> {
  const admin = Fastify(
    serverOptions(app.config, logger.child({ port: 'admin' })),
  ).withTypeProvider<TypeBoxTypeProvider>();
  const { db, replicas, warmUp } = app;
  // The primary's fields as they always were (the warmer reads them), plus each replica's pool.
  const poolStats = () => (replicas ? { ...db.stats(), replicas: replicas.stats() } : db.stats());
  admin.setErrorHandler(errorHandler);
  admin.setNotFoundHandler(notFoundHandler);

  admin.get('/pool', { schema: { response: { 200: PoolStatsResponse } } }, async () => poolStats());

  admin.post(
    '/pool/warm',
    { schema: { response: { 200: PoolStatsResponse, 503: WarmFailedResponse } } },
    async (_request, reply) => {
      try {
        await warmUp();
        return poolStats();
      } catch (err) {
        reply.header('retry-after', String(WARM_RETRY_AFTER_S));
        return reply.code(503).send({ ...poolStats(), message: (err as Error).message });
      }
    },
  );

  admin.get('/metrics', metricsHandler(app));

  if (metrics) {
    // Scrapes keep working through the drain: the metrics port closes last, with the admin port.
    admin.addHook('onClose', async () => {
      await metrics.close();
    });
  }

  await admin.ready();
  return admin;
}
