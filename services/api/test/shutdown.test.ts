import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { loadApiConfig } from '@mokakbab/config';
import { waitFor, type TestDatabase } from '@mokakbab/testkit';
import { PoolUnavailableError } from '../src/db/index.js';
import { createLogger } from '../src/lifecycle/server-options.js';
import { shutdown } from '../src/lifecycle/shutdown.js';
import { buildInstances, listen } from '../src/lifecycle/instances.js';
import { accepts, seededDatabase, testEnv } from './helper.js';

let db: TestDatabase;

/** Everything the peer sends until it closes the connection. */
async function readAll(socket: Socket): Promise<string> {
  let text = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    text += chunk;
  });
  await once(socket, 'close');
  return text;
}

before(async () => {
  db = await seededDatabase({ members: 3, articles: 3, participations: 3 });
});

after(async () => {
  await db?.close();
});

test('shutdown: ready turns 503 at once, serving goes on, in-flight requests finish, late ones get 503 SHUTTING_DOWN, then the pool is closed', async () => {
  const config = loadApiConfig(
    testEnv(db, {
      HOST: '127.0.0.1',
      PORT: '0',
      ADMIN_PORT: '0',
      DB_POOL_SIZE: '1',
      DB_ACQUIRE_TIMEOUT_MS: '5000',
      SHUTDOWN_DELAY_MS: '300',
    }),
  );
  const instances = await buildInstances(config, createLogger(config));
  const { app, admin } = instances;
  await app.warmUp();
  const { port, adminPort } = await listen(instances, config);
  const base = `http://127.0.0.1:${port}`;

  // Hold the only connection so the next request is in flight (waiting for it) when shutdown starts.
  const hold = app.db.query('SELECT SLEEP(1)');
  await waitFor('the connection to be busy', () => app.db.stats().busy === 1);
  const inFlight = fetch(`${base}/articles`);
  await waitFor('the request to queue for a connection', () => app.db.stats().queued === 1);

  // A keep-alive client whose next request is half sent: its socket is busy, so close() keeps it.
  const late = connect(port, '127.0.0.1');
  await once(late, 'connect');
  late.write('GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n');

  const closing = shutdown(app, admin, { delayMs: config.shutdownDelayMs });

  const ready = await fetch(`${base}/health/ready`);
  assert.equal(ready.status, 503);
  assert.deepEqual(await ready.json(), { status: 'shutting-down' });
  assert.equal(ready.headers.get('connection'), 'close');
  const live = await fetch(`${base}/health/live`);
  assert.equal(live.status, 200, 'still serving during the delay');
  const pool = await fetch(`http://127.0.0.1:${adminPort}/pool`);
  assert.equal(pool.status, 200);
  await pool.body?.cancel();

  // The listener closes once nothing is in flight; the late socket, whose request is not complete,
  // is kept open (not reset as 'idle'): finish its request now and it gets the drain's 503.
  await waitFor('the server to stop accepting', async () => !(await accepts(port)), 5_000);
  const answer = readAll(late);
  late.write('\r\n');
  const raw = await answer;
  const [head = '', payload = ''] = raw.split('\r\n\r\n');
  assert.match(head, /^HTTP\/1\.1 503 /);
  assert.match(head, /^retry-after: 1$/im);
  assert.match(head, /^connection: close$/im);
  assert.equal(JSON.parse(payload).code, 'SHUTTING_DOWN');

  const response = await inFlight;
  assert.equal(response.status, 200);
  assert.equal(((await response.json()) as { items: unknown[] }).items.length, 3);
  await hold;
  await closing;
  // What /metrics served until the admin port closed (that port closes last).
  assert.match(await app.metrics.registry.metrics(), /^http_requests_rejected_total\{reason="shutting_down"\} 1$/m);

  assert.equal(app.db.stats().total, 0);
  await assert.rejects(app.db.query('SELECT 1'), (err: unknown) => {
    assert.ok(err instanceof PoolUnavailableError);
    assert.equal(err.code, 'POOL_CLOSED');
    return true;
  });
  await assert.rejects(fetch(`${base}/health/live`), 'the public port no longer accepts');
  await assert.rejects(fetch(`http://127.0.0.1:${adminPort}/pool`), 'the admin port is closed');
});
