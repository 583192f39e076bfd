// `fastify.readiness`, and `Connection: close` on every response once shutdown has begun so
// keep-alive clients move to other instances instead of being cut off when the server closes.
// Requests still arriving once close() has started (on a busy keep-alive socket, or pipelined)
// get 503 SHUTTING_DOWN before any route work.
import fp from 'fastify-plugin';
import { shuttingDown } from '../../errors.js';
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
    let closing = false;
    // preClose runs as close() starts, after Fastify stops routing as usual and before the server closes.
    fastify.addHook('preClose', (done) => {
      closing = true;
      done();
    });
    fastify.addHook('onRequest', (_request, _reply, done) => {
      if (closing) return done(shuttingDown());
      done();
    });
    fastify.addHook('onSend', (_request, reply, payload, done) => {
      if (readiness.shuttingDown) reply.header('connection', 'close');
      done(null, payload);
    });
  },
  { name: 'readiness' },
);
