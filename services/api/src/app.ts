// The API as one Fastify plugin, in fastify/demo's order: third-party plugins (plugins/external),
// our own shared pieces (plugins/app), then the routes. server.ts and test/helper.ts both register it.
import type { ApiConfig } from '@mokakbab/config';
import type { FastifyInstance } from 'fastify';
import { errorHandler, notFoundHandler } from './errors.js';
import configPlugin from './plugins/external/config.js';
import jwtPlugin from './plugins/external/jwt.js';
import swaggerPlugin from './plugins/external/swagger.js';
import abusePlugin from './plugins/app/abuse.js';
import authPlugin from './plugins/app/auth.js';
import dbPlugin from './plugins/app/db.js';
import metricsPlugin from './plugins/app/metrics.js';
import readinessPlugin from './plugins/app/readiness.js';
import repositoriesPlugin from './plugins/app/repositories.js';
import warmUpPlugin from './plugins/app/warm-up.js';
import articleRoutes from './routes/articles/index.js';
import authRoutes from './routes/auth/index.js';
import healthRoutes from './routes/health/index.js';
import memberRoutes from './routes/members/index.js';
import participationRoutes from './routes/participations/index.js';

export interface AppOptions {
  config: ApiConfig;
}

const DEBUG_LEVELS = new Set(['debug', 'trace']);

export default async function serviceApp(fastify: FastifyInstance, opts: AppOptions) {
  await fastify.register(configPlugin, { config: opts.config });
  await fastify.register(swaggerPlugin);
  await fastify.register(jwtPlugin);

  await fastify.register(readinessPlugin);
  await fastify.register(dbPlugin);
  await fastify.register(repositoriesPlugin);
  await fastify.register(authPlugin);
  await fastify.register(metricsPlugin);
  await fastify.register(warmUpPlugin);
  await fastify.register(abusePlugin);

  fastify.setErrorHandler(errorHandler);
  fastify.setNotFoundHandler(notFoundHandler);

  // Fastify's own per-request info logs are off (two JSON lines per request cost real CPU under
  // load); at debug/trace this hook logs one line per request instead, never headers or bodies.
  if (DEBUG_LEVELS.has(opts.config.logLevel)) {
    fastify.addHook('onResponse', (request, reply, done) => {
      request.log.debug(
        { method: request.method, url: request.url, statusCode: reply.statusCode, responseTimeMs: reply.elapsedTime },
        'request completed',
      );
      done();
    });
  }

  await fastify.register(healthRoutes, { prefix: '/health' });
  await fastify.register(authRoutes, { prefix: '/auth' });
  await fastify.register(memberRoutes, { prefix: '/members' });
  await fastify.register(articleRoutes, { prefix: '/articles' });
  await fastify.register(participationRoutes, { prefix: '/participations' });
}
