// The shutdown sequence SIGTERM runs (server.ts wires it to close-with-grace; tests call it directly):
// not ready at once, keep serving while the load balancer removes the instance (every response says
// `Connection: close`), then drain while still listening (new requests get 503 SHUTTING_DOWN) until
// the requests in flight then are answered and clients stop opening connections, then stop listening
// and end the idle sockets (ConnectionTracker: no socket with a request on its way is reset), end the
// pool (the db plugin's onClose), close the admin port.
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';

// Clients still sending open connections more often than this; the wait for quiet is bounded.
const QUIET_MS = 250;
const QUIET_MAX_MS = 2_000;

export interface ShutdownOptions {
  delayMs: number;
}

export async function shutdown(app: FastifyInstance, admin: FastifyInstance, opts: ShutdownOptions): Promise<void> {
  app.readiness.beginShutdown();
  app.log.info({ delayMs: opts.delayMs }, 'shutdown: not ready, still serving');
  if (opts.delayMs > 0) await sleep(opts.delayMs);
  app.readiness.beginDrain();
  app.log.info({ inFlight: app.connections.inFlight }, 'shutdown: draining');
  // Still listening: a connection the load balancer sent late gets a 503, not a reset in the backlog.
  await app.connections.settled();
  await app.connections.quiet(QUIET_MS, QUIET_MAX_MS);
  await app.close();
  await admin.close();
  app.log.info('shutdown complete');
}
