// `fastify.readiness` and `fastify.connections`, and `Connection: close` on every response once
// shutdown has begun so keep-alive clients move to other instances instead of being cut off when
// the server closes. Requests arriving once the drain has begun (after the shutdown delay, or once
// close() starts) get 503 SHUTTING_DOWN before any route work, counted as
// http_requests_rejected_total{reason="shutting_down"}.
import fp from 'fastify-plugin';
import { ConnectionTracker } from '../../lifecycle/connections.js';
import { shuttingDown } from '../../errors.js';

// Readiness: not ready until the first full warm-up, then ready for good (a later database blip
// must not pull every replica out of the load balancer at once), and not ready again from the
// moment shutdown starts.
export type ReadyStatus = 'warming' | 'ready' | 'shutting-down';

export class Readiness {
  #warm = false;
  #shuttingDown = false;
  #draining = false;
  readonly #drainListeners = new Set<() => void>();

  get status(): ReadyStatus {
    if (this.#shuttingDown) return 'shutting-down';
    return this.#warm ? 'ready' : 'warming';
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** Once the shutdown delay is over: new requests are answered 503 SHUTTING_DOWN. */
  get draining(): boolean {
    return this.#draining;
  }

  markWarm(): void {
    this.#warm = true;
  }

  beginShutdown(): void {
    this.#shuttingDown = true;
  }

  beginDrain(): void {
    this.#shuttingDown = true;
    if (this.#draining) return;
    this.#draining = true;
    for (const listener of this.#drainListeners) listener();
  }

  /** Calls `listener` when the drain begins (plugins subscribe at registration, before any drain). */
  onDrain(listener: () => void): void {
    this.#drainListeners.add(listener);
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    readiness: Readiness;
    connections: ConnectionTracker;
  }
}

// How long a connection that has not sent its first request yet is kept open once the server
// closes: a request already sent arrives within a round trip, far below this.
const FRESH_SOCKET_GRACE_MS = 1_000;

export default fp(
  async function readinessPlugin(fastify) {
    const readiness = new Readiness();
    fastify.decorate('readiness', readiness);
    fastify.decorate(
      'connections',
      new ConnectionTracker(fastify.server, { freshSocketGraceMs: FRESH_SOCKET_GRACE_MS }),
    );
    // preClose runs as close() starts: a close() without shutdown() drains the same way.
    fastify.addHook('preClose', (done) => {
      readiness.beginDrain();
      done();
    });
    fastify.addHook('onRequest', (_request, _reply, done) => {
      if (!readiness.draining) return done();
      // The metrics plugin registers later (it reads the pool); it is there before any request.
      fastify.metrics.rejected('shutting_down');
      done(shuttingDown());
    });
    fastify.addHook('onSend', (_request, reply, payload, done) => {
      if (readiness.shuttingDown) reply.header('connection', 'close');
      done(null, payload);
    });
  },
  { name: 'readiness' },
);
