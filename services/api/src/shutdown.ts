// The shutdown sequence SIGTERM runs (server.ts wires it to close-with-grace; tests call it directly):
// not ready at once, keep serving while the load balancer removes the instance, then stop
// accepting, drain in-flight requests, end the pool (the db plugin's onClose), close the admin port.
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';

export interface ShutdownOptions {
  delayMs: number;
}

export async function shutdown(app: FastifyInstance, admin: FastifyInstance, opts: ShutdownOptions): Promise<void> {
  app.readiness.beginShutdown();
  app.log.info({ delayMs: opts.delayMs }, 'shutdown: not ready, still serving');
  if (opts.delayMs > 0) await sleep(opts.delayMs);
  app.log.info('shutdown: draining');
  await app.close();
  await admin.close();
  app.log.info('shutdown complete');
}
