// Entry point: config (bad config exits 1 naming the variable), logger, HTTP port, targets, SIGTERM.
import type { Server } from 'node:http';
import pino from 'pino';
import { ConfigError, loadWarmerConfig } from '@mokakbab/config';
import { METRICS_ONLY, createHttpServer, listen } from './http.js';
import { StdoutDestination } from './log-destination.js';
import { loadReplay } from './replay.js';
import { SHUTDOWN_HARD_LIMIT_MS, Warmer } from './warmer.js';

/** How long the last log lines may take to reach stdout at exit. */
const LOG_DRAIN_MS = 1_000;

function loadOrExit() {
  try {
    const config = loadWarmerConfig();
    return { config, replay: loadReplay(config) };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
}

const { config, replay } = loadOrExit();
const stdout = new StdoutDestination();
const log = pino({ name: 'warmer', level: config.logLevel }, stdout);
const warmer = new Warmer(config, { log, replay });
const server = createHttpServer(warmer);
const address = await listen(server, config.warmerHost, config.warmerPort);
// WARMER_METRICS_PORT: /metrics alone, so a NetworkPolicy can open it without /status.
let metricsServer: Server | undefined;
let metricsPort: number | undefined;
if (config.warmerMetricsPort !== undefined) {
  metricsServer = createHttpServer(warmer, METRICS_ONLY);
  metricsPort = (await listen(metricsServer, config.warmerHost, config.warmerMetricsPort)).port;
}
log.info({ host: address.address, port: address.port, metricsPort, mode: config.mode }, 'listening');
warmer.start();

/** A log line must never be what keeps the process from exiting. */
function safeLog(write: () => void): void {
  try {
    write();
  } catch {
    // stdout is broken; exiting matters more than the line.
  }
}

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  // Whatever hangs below (a socket, a database that never answers), the process still ends.
  setTimeout(() => process.exit(1), SHUTDOWN_HARD_LIMIT_MS).unref();
  safeLog(() => log.info({ signal }, 'shutting down'));
  const servers = metricsServer ? [server, metricsServer] : [server];
  for (const s of servers) s.closeAllConnections();
  const results = await Promise.allSettled([
    ...servers.map((s) => new Promise((resolve) => s.close(resolve))),
    warmer.stop(),
  ]);
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) safeLog(() => log.error({ err: failed.reason as unknown }, 'shutdown failed'));
  safeLog(() => log.info('stopped'));
  await stdout.drain(LOG_DRAIN_MS);
  process.exit(failed ? 1 : 0);
}
process.once('SIGTERM', () => void shutdown('SIGTERM'));
process.once('SIGINT', () => void shutdown('SIGINT'));
