// The warmer's own port: GET /live, /ready (the probe), /status (per-target detail), /metrics;
// and, with WARMER_METRICS_PORT, a second port that serves /metrics alone.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Warmer } from './warmer.js';

export const ALL_PATHS: ReadonlySet<string> = new Set(['/live', '/ready', '/status', '/metrics']);
export const METRICS_ONLY: ReadonlySet<string> = new Set(['/metrics']);

export function createHttpServer(warmer: Warmer, paths: ReadonlySet<string> = ALL_PATHS): Server {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0]!;
    const send = (status: number, body: unknown): void => {
      const text = JSON.stringify(body);
      res.writeHead(status, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(text),
      });
      res.end(text);
    };
    if (!paths.has(path)) return send(404, { error: 'Not Found' });
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, { error: 'Method Not Allowed' });
    switch (path) {
      case '/live':
        return send(200, { status: 'ok' });
      case '/ready': {
        const r = warmer.readiness();
        return r.ready
          ? send(200, { ready: true, targets: r.targets })
          : send(503, { ready: false, reasons: r.reasons });
      }
      case '/status':
        return send(200, warmer.status());
      case '/metrics':
        warmer.metrics.registry.metrics().then(
          (text) => {
            res.writeHead(200, { 'content-type': warmer.metrics.registry.contentType });
            res.end(text);
          },
          (err: Error) => send(500, { error: err.message }),
        );
        return;
      default:
        return send(404, { error: 'Not Found' });
    }
  });
  // Probes are tiny: bound every phase of a request so a stuck client cannot hold a socket.
  server.requestTimeout = 5_000;
  server.headersTimeout = 5_000;
  server.keepAliveTimeout = 5_000;
  return server;
}

export async function listen(server: Server, host: string, port: number): Promise<AddressInfo> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server.address() as AddressInfo;
}
