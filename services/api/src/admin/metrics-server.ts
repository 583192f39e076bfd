// The metrics port (METRICS_HOST:METRICS_PORT): GET /metrics and nothing else, so a Prometheus
// outside the pod can scrape while /pool and POST /pool/warm stay on the loopback admin port.
import Fastify, { type FastifyInstance, type RouteHandlerMethod } from 'fastify';
import type { Logger } from 'pino';
import { errorHandler, notFoundHandler } from '../errors.js';
import { serverOptions } from '../lifecycle/server-options.js';

/** The scrape handler, shared by the admin port and the metrics port. */
export function metricsHandler(app: FastifyInstance): RouteHandlerMethod {
  const { registry } = app.metrics;
  return async (_request, reply) => {
    const body = await registry.metrics();
    return reply.type(registry.contentType).send(body);
  };
}

export async function buildMetricsServer(app: FastifyInstance, logger: Logger): Promise<FastifyInstance> {
  const server = Fastify(serverOptions(app.config, logger.child({ port: 'metrics' })));
  server.setErrorHandler(errorHandler);
  server.setNotFoundHandler(notFoundHandler);
  server.get('/metrics', metricsHandler(app));
  await server.ready();
  return server;
}
