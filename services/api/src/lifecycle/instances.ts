// Building and starting both instances, shared by server.ts and the tests.
import Fastify, { type FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { ApiConfig } from '@mokakbab/config';
import type { AddressInfo, Server } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { buildAdmin } from '../admin/index.js';
import serviceApp from '../app.js';
import { buildMetricsServer } from '../admin/metrics-server.js';
import { listenPublic } from './listeners.js';
import { serverOptions } from './server-options.js';

export interface Instances {
  app: FastifyInstance;
  admin: FastifyInstance;
  /** Only with METRICS_PORT; closed when the admin app closes, so shutdown stays one sequence. */
  metrics?: FastifyInstance;
}

/**
 * Builds the public app (reads the server's limits, plans and creates the pool), the admin app and,
 * with METRICS_PORT set, the metrics app.
 */
export async function buildInstances(config: ApiConfig, logger: Logger): Promise<Instances> {
  const app = Fastify(serverOptions(config, logger));
  app.register(fp(serviceApp), { config });
  try {
    await app.ready();
  } catch (err) {
    await app.close().catch(() => undefined);
    throw err;
  }
  const metrics = config.metricsPort === undefined ? undefined : await buildMetricsServer(app, logger);
  return { app, admin: await buildAdmin(app, logger, metrics), metrics };
}

/**
 * Listens on every port and logs the one `listening` line with the real ports (PORT=0 works);
 * `listeners` are the public port's listening sockets (LISTEN_SOCKETS).
 */
export async function listen(
  { app, admin, metrics }: Instances,
  config: ApiConfig,
): Promise<{ port: number; adminPort: number; metricsPort?: number; listeners: readonly Server[] }> {
  const listeners = await listenPublic(app, {
    host: config.host,
    port: config.port,
    backlog: config.listenBacklog,
    sockets: config.listenSockets,
  });
  await admin.listen({ host: config.adminHost, port: config.adminPort });
  const port = (app.server.address() as AddressInfo).port;
  const adminPort = (admin.server.address() as AddressInfo).port;
  let metricsPort: number | undefined;
  if (metrics) {
    await metrics.listen({ host: config.metricsHost, port: config.metricsPort });
    metricsPort = (metrics.server.address() as AddressInfo).port;
  }
  const ports = metrics ? { metricsHost: config.metricsHost, metricsPort } : {};
  app.log.info(
    { host: config.host, port, listenSockets: listeners.length, adminHost: config.adminHost, adminPort, ...ports },
    'listening',
  );
  return { port, adminPort, metricsPort, listeners };
}

const BOOT_WARM_RETRY_MS = 1_000;

/**
 * WARM_ON_BOOT: warm in the background after listen; a timed-out warm-up (logged by warmUp) is
 * tried again until it succeeds or shutdown begins, so an instance does not stay unready for good.
 */
export async function warmInBackground(app: FastifyInstance): Promise<void> {
  while (!app.readiness.shuttingDown) {
    try {
      await app.warmUp();
      return;
    } catch {
      await sleep(BOOT_WARM_RETRY_MS);
    }
  }
}
