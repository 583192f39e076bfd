// Liveness and readiness on the public port. Logged at warn only: probes every few seconds are noise.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { LiveResponse, ReadyResponse } from '../../schemas/health.js';

const LIVE = { status: 'ok' } as const;

const plugin: FastifyPluginAsyncTypebox = async (fastify) => {
  const { readiness } = fastify;
  const tags = ['health'];

  fastify.get('/live', { logLevel: 'warn', schema: { tags, response: { 200: LiveResponse } } }, async () => LIVE);

  fastify.get(
    '/ready',
    { logLevel: 'warn', schema: { tags, response: { 200: ReadyResponse, 503: ReadyResponse } } },
    async (_request, reply) => {
      const status = readiness.status;
      return reply.code(status === 'ready' ? 200 : 503).send({ status });
    },
  );
};

export default plugin;
