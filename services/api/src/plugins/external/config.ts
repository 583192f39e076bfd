// The validated configuration (loaded once by the caller with loadApiConfig) as `fastify.config`.
import type { ApiConfig } from '@mokakbab/config';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyInstance {
    config: ApiConfig;
  }
}

export default fp<{ config: ApiConfig }>(
  async function configPlugin(fastify, opts) {
    fastify.decorate('config', opts.config);
  },
  { name: 'config' },
);
