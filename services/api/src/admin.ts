// The admin instance (ADMIN_HOST:ADMIN_PORT, loopback by default): pool stats, warm-up on demand
// for the warmer, and Prometheus metrics. A second Fastify instance so none of it is public.
import Fastify, { type FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { errorHandler, notFoundHandler } from './errors.js';
import { PoolStatsResponse, WarmFailedResponse } from './schemas/pool.js';
import { serverOptions } from './server-options.js';
import type { Logger } from 'pino';

const WARM_RETRY_AFTER_S = 1;

export async function buildAdmin(app: FastifyInstance, logger: Logger): Promise<FastifyInstance> {
  const admin = Fastify(
    serverOptions(app.config, logger.child({ port: 'admin' })),
  ).withTypeProvider<TypeBoxTypeProvider>();
  const { db, warmUp, metrics } = app;
  admin.setErrorHandler(errorHandler);
  admin.setNotFoundHandler(notFoundHandler);

  admin.get('/pool', { schema: { response: { 200: PoolStatsResponse } } }, async () => db.stats());

  admin.post(
    '/pool/warm',
    { schema: { response: { 200: PoolStatsResponse, 503: WarmFailedResponse } } },
    async (_request, reply) => {
      try {
        return await warmUp();
      } catch (err) {
        reply.header('retry-after', String(WARM_RETRY_AFTER_S));
        return reply.code(503).send({ ...db.stats(), message: (err as Error).message });
      }
    },
  );

  admin.get('/metrics', async (_request, reply) => {
    const body = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(body);
  });

  await admin.ready();
  return admin;
}
