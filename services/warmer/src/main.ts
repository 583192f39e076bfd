// Entry point: config (bad config exits 1 naming the variable), logger, HTTP port, targets, SIGTERM.
import pino from 'pino';
import { ConfigError, loadWarmerConfig } from '@mokakbab/config';
import { createHttpServer, listen } from './http.js';
import { loadReplay } from './replay.js';
import { Warmer } from './warmer.js';

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
const log = pino({ name: 'warmer', level: config.logLevel });
const warmer = new Warmer(config, { log, replay });
const server = createHttpServer(warmer);
const address = await listen(server, config.warmerHost, config.warmerPort);
log.info({ host: address.address, port: address.port, mode: config.mode }, 'listening');
warmer.start();

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'shutting down');
  server.closeAllConnections();
  await Promise.all([new Promise((resolve) => server.close(resolve)), warmer.stop()]);
  log.info('stopped');
  process.exit(0);
}
process.once('SIGTERM', () => void shutdown('SIGTERM'));
process.once('SIGINT', () => void shutdown('SIGINT'));
