// `fastify.readiness`, and `Connection: close` on every response once shutdown has begun so
// keep-alive clients move to other instances instead of being cut off when the server closes.
import fp from 'fastify-plugin';
import { Readiness } from '../../readiness.js';

declare module 'fastify' {
  interface FastifyInstance {
    readiness: Readiness;
  }
}

export default fp(
  async function readinessPlugin(fastify) {
    const readiness = new Readiness();
    fastify.decorate('readiness', readiness);
    fastify.addHook('onSend', (_request, reply, payload, done) => {
      if (readiness.shuttingDown) reply.header('connection', 'close');
      done(null, payload);
    });
  },
  { name: 'readiness' },
);
