// The warmer's own endpoints, and admin-port protocol edge cases (malformed JSON, a hung port)
// against a minimal stand-in of the admin contract: the API itself never answers like this.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { createTestDatabase, freePort, type TestDatabase, waitFor } from '@mokakbab/testkit';
import { METRICS_ONLY, createHttpServer, listen } from '../src/index.js';
import { getJson, startTestWarmer } from './helper.js';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase({ migrate: false });
});
after(async () => {
  await db?.close();
});

async function standIn(handler: Parameters<typeof createServer>[1]): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer(handler);
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

test('/live, /ready with reasons, /status and /metrics while the target is down', async (t) => {
  const adminPort = await freePort();
  const w = await startTestWarmer({ DATABASE_URL: db.url.href, WARMER_TARGET: `http://127.0.0.1:${adminPort}` });
  t.after(() => w.close());

  assert.deepEqual((await getJson(`${w.url}/live`)).body, { status: 'ok' });
  const ready = await waitFor('a reason', async () => {
    const r = await getJson(`${w.url}/ready`);
    const reasons = r.body.reasons as { lastError: string | null }[];
    return reasons[0]?.lastError ? r : undefined;
  });
  assert.equal(ready.status, 503);
  assert.equal(ready.body.ready, false);
  const [reason] = ready.body.reasons as { id: string; phase: string; lastError: string }[];
  assert.equal(reason?.id, `127.0.0.1:${adminPort}`);
  assert.equal(reason?.phase, 'waiting-for-admin');
  assert.match(reason?.lastError ?? '', /admin port not reachable \(ECONNREFUSED\)/);

  const status = (await getJson(`${w.url}/status`)).body;
  assert.equal(status.mode, 'sidecar');
  const [target] = status.targets as Record<string, unknown>[];
  assert.equal(target?.publicUrl, `http://127.0.0.1:3000/`);
  assert.deepEqual(Object.keys(target ?? {}).sort(), [
    'adminUrl',
    'attempts',
    'id',
    'lastError',
    'phase',
    'pool',
    'publicUrl',
    'ready',
    'room',
    'slot',
    'timings',
  ]);
  assert.equal(target?.room, null, 'no room check before a slot');

  const metrics = await (await fetch(`${w.url}/metrics`)).text();
  assert.match(metrics, /warmer_targets\{phase="waiting-for-admin"\} 1/);
  assert.match(metrics, /warmer_ready 0/);
  assert.match(metrics, /warmer_targets\{phase="waiting-for-room"\} 0/);
  assert.match(metrics, /^warmer_room_wait_seconds_count 0$/m);
  assert.match(metrics, /^warmer_room_timeouts_total 0$/m);
  assert.match(metrics, /warmer_errors_total\{kind="admin-unreachable"\} \d+/);
  assert.match(metrics, /^warmer_process_cpu_seconds_total /m);
  assert.match(metrics, /^warmer_nodejs_eventloop_lag_seconds /m);
  assert.doesNotMatch(metrics, /warmer_process_(process|nodejs)_/);
  assert.equal((await fetch(`${w.url}/nope`)).status, 404);
});

test('the metrics-only server answers /metrics and 404 on every other path', async (t) => {
  const adminPort = await freePort();
  const w = await startTestWarmer({ DATABASE_URL: db.url.href, WARMER_TARGET: `http://127.0.0.1:${adminPort}` });
  t.after(() => w.close());
  const server = createHttpServer(w.warmer, METRICS_ONLY);
  const { port } = await listen(server, '127.0.0.1', 0);
  t.after(() => new Promise((resolve) => server.close(resolve)));
  const metrics = await fetch(`http://127.0.0.1:${port}/metrics`);
  assert.equal(metrics.status, 200);
  assert.match(await metrics.text(), /^warmer_ready 0$/m);
  for (const path of ['/status', '/ready', '/live', '/nope']) {
    const res = await fetch(`http://127.0.0.1:${port}${path}`);
    assert.equal(res.status, 404, path);
    await res.body?.cancel();
  }
});

test('malformed JSON from the admin port is a protocol error, never a crash', async (t) => {
  const admin = await standIn((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"target":10,');
  });
  t.after(() => admin.close());
  const w = await startTestWarmer({ DATABASE_URL: db.url.href, WARMER_TARGET: admin.url });
  t.after(() => w.close());
  const status = await waitFor('the protocol error', async () => {
    const s = (await getJson(`${w.url}/status`)).body;
    const [target] = s.targets as { lastError: string | null; ready: boolean }[];
    return target?.lastError ? target : undefined;
  });
  assert.equal(status.ready, false);
  assert.match(status.lastError ?? '', /GET \/pool answered 200 with malformed JSON/);
  assert.match(await (await fetch(`${w.url}/metrics`)).text(), /warmer_errors_total\{kind="admin-protocol"\} \d+/);
});

test('a hung admin port times out within the request bound and is retried', async (t) => {
  let requests = 0;
  const admin = await standIn(() => {
    requests++; // never answers
  });
  t.after(() => admin.close());
  const w = await startTestWarmer({ DATABASE_URL: db.url.href, WARMER_TARGET: admin.url });
  t.after(() => w.close());
  const target = await waitFor(
    'the timeout',
    async () => {
      const s = (await getJson(`${w.url}/status`)).body;
      const [tg] = s.targets as { lastError: string | null; ready: boolean; phase: string }[];
      return tg?.lastError ? tg : undefined;
    },
    8_000,
  );
  assert.equal(target.phase, 'waiting-for-admin');
  assert.match(target.lastError ?? '', /GET \/pool: admin request failed \(UND_ERR_HEADERS_TIMEOUT\)/);
  assert.equal((await getJson(`${w.url}/ready`)).status, 503);
  await waitFor('a retry', async () => (requests >= 2 ? true : undefined), 8_000);
});

test('fleet mode with a name that does not resolve reports the discovery error', async (t) => {
  const w = await startTestWarmer({
    DATABASE_URL: db.url.href,
    WARMER_MODE: 'fleet',
    WARMER_FLEET_HOST: 'no-such-host.invalid',
  });
  t.after(() => w.close());
  const ready = await waitFor('the discovery error', async () => {
    const r = await getJson(`${w.url}/ready`);
    const [reason] = r.body.reasons as { id: string; lastError: string }[];
    return reason?.lastError?.includes('ENOTFOUND') ? r : undefined;
  });
  assert.equal(ready.status, 503);
  assert.equal((ready.body.reasons as { id: string }[])[0]?.id, 'discovery');
});
