// Builds a Warmer with its HTTP port on 127.0.0.1:0 from an env, for tests; `close` stops both.
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { loadWarmerConfig } from '@mokakbab/config';
import { getJson as testkitGetJson } from '@mokakbab/testkit';
import { createHttpServer, listen, loadReplay, Warmer } from '../src/index.js';

export interface TestWarmer {
  warmer: Warmer;
  url: string;
  close(): Promise<void>;
}

/** `logLines`, when given, receives every log line (parsed) at info and above. */
export async function startTestWarmer(
  env: Record<string, string>,
  logLines?: Record<string, unknown>[],
): Promise<TestWarmer> {
  const config = loadWarmerConfig({ WARMER_HOST: '127.0.0.1', WARMER_PORT: '0', ...env });
  const destination = { write: (line: string) => logLines?.push(JSON.parse(line) as Record<string, unknown>) };
  const log = logLines ? pino({ level: 'info' }, destination) : pino({ level: 'silent' });
  const warmer = new Warmer(config, { log, replay: loadReplay(config) });
  const server = createHttpServer(warmer);
  const address: AddressInfo = await listen(server, config.warmerHost, config.warmerPort);
  warmer.start();
  return {
    warmer,
    url: `http://127.0.0.1:${address.port}`,
    async close() {
      server.closeAllConnections();
      await Promise.all([new Promise((resolve) => server.close(resolve)), warmer.stop()]);
    },
  };
}

/** The testkit's bounded JSON request, with a 5 s bound. */
export const getJson = (url: string) => testkitGetJson(url, {}, 5_000);
