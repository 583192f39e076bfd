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
import mailerPlugin from './plugins/app/mailer.js';
import metricsPlugin from './plugins/app/metrics.js';
import overloadPlugin from './plugins/app/overload.js';
import readinessPlugin from './plugins/app/readiness.js';
import replicasPlugin from './plugins/app/replicas.js';
import repositoriesPlugin from './plugins/app/repositories.js';
import warmUpPlugin from './plugins/app/warm-up.js';
import articleEditRoutes from './routes/articles/edits.js';
import articleRoutes from './routes/articles/index.js';
import authRoutes from './routes/auth/index.js';
import verifyEmailRoutes from './routes/auth/verify-email.js';
import healthRoutes from './routes/health/index.js';
import imageRoutes from './routes/images/index.js';
import memberAccountRoutes from './routes/members/account.js';
import memberBlockRoutes from './routes/members/blacks.js';
import memberRoutes from './routes/members/index.js';
import participationRoutes from './routes/participations/index.js';
import myParticipationRoutes from './routes/participations/mine.js';

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
  await fastify.register(replicasPlugin);
  await fastify.register(repositoriesPlugin);
  await fastify.register(authPlugin);
  await fastify.register(mailerPlugin);
  await fastify.register(metricsPlugin);
  await fastify.register(overloadPlugin);
  await fastify.register(warmUpPlugin);
  await fastify.register(abusePlugin);

  fastify.setErrorHandler(errorHandler);
  fastify.setNotFoundHandler(notFoundHandler);

  // Fastify's own per-request logs are off (two JSON lines per request cost real CPU under load);
  // this line never carries headers or bodies.
  // ACCESS_LOG=true logs one info line per request; at debug/trace the same line comes at debug.
  // Otherwise no hook is registered at all, so an access log that is off costs nothing.
  const { accessLog, logLevel } = opts.config;
  if (accessLog || DEBUG_LEVELS.has(logLevel)) {
    const level = accessLog ? 'info' : 'debug';
    fastify.addHook('onResponse', (request, reply, done) => {
      request.log[level](
        { method: request.method, url: request.url, statusCode: reply.statusCode, responseTimeMs: reply.elapsedTime },
        'request completed',
      );
      done();
    });
  }

  await fastify.register(healthRoutes, { prefix: '/health' });
  await fastify.register(authRoutes, { prefix: '/auth' });
  await fastify.register(verifyEmailRoutes, { prefix: '/auth' });
  await fastify.register(memberRoutes, { prefix: '/members' });
  await fastify.register(memberAccountRoutes, { prefix: '/members' });
  await fastify.register(memberBlockRoutes, { prefix: '/members' });
  await fastify.register(articleRoutes, { prefix: '/articles' });
  await fastify.register(articleEditRoutes, { prefix: '/articles' });
  await fastify.register(imageRoutes);
  await fastify.register(participationRoutes, { prefix: '/participations' });
  await fastify.register(myParticipationRoutes, { prefix: '/participations' });
}
