// LISTEN_SOCKETS: N listening sockets on the public port (SO_REUSEPORT), all feeding the one HTTP
// server. The kernel picks the socket of each new connection (a hash of its addresses), so the test
// opens connections until every socket has accepted one, a bounded wait on a condition.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { loadApiConfig } from '@mokakbab/config';
import { waitFor, type TestDatabase } from '@mokakbab/testkit';
import { createLogger } from '../src/lifecycle/server-options.js';
import { shutdown } from '../src/lifecycle/shutdown.js';
import { buildInstances, listen } from '../src/lifecycle/instances.js';
import { accepts, seededDatabase, testEnv } from './helper.js';

const SOCKETS = 4;
const MAX_CONNECTIONS = 400;
const LOCK = 'listeners.test.hold';

let db: TestDatabase;

before(async () => {
  db = await seededDatabase({ members: 3, articles: 3, participations: 3 });
});

after(async () => {
  await db?.close();
});

interface Client {
  socket: Socket;
  /** The listener that accepted it. */
  listener: Server;
  /** Answers so far, as raw text. */
  received: string;
}

/**
 * Opens connections until each listener has accepted one; returns one client per listener.
 * `acceptedBy` maps a client's local port to the listener whose 'connection' saw it.
 */
async function clientPerListener(port: number, listeners: readonly Server[], acceptedBy: Map<number, Server>) {
  const clients = new Map<Server, Client>();
  const spare: Socket[] = [];
  for (let i = 0; i < MAX_CONNECTIONS && clients.size < listeners.length; i++) {
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    const localPort = socket.localPort!;
    await waitFor('the connection to be accepted', () => acceptedBy.has(localPort));
    const listener = acceptedBy.get(localPort)!;
    if (clients.has(listener)) {
      spare.push(socket);
      continue;
    }
    const client: Client = { socket, listener, received: '' };
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (client.received += chunk));
    clients.set(listener, client);
  }
  for (const socket of spare) socket.destroy();
  assert.equal(clients.size, listeners.length, `every listener accepted one of ${MAX_CONNECTIONS} connections`);
  return [...clients.values()];
}

test('LISTEN_SOCKETS=4: four listeners on one port, every connection tracked with the server timeouts, shutdown answers every request and closes them all', async (t) => {
  const config = loadApiConfig(
    testEnv(db, {
      HOST: '127.0.0.1',
      PORT: '0',
      ADMIN_PORT: '0',
      LISTEN_SOCKETS: String(SOCKETS),
      DB_POOL_SIZE: '1',
      DB_ACQUIRE_TIMEOUT_MS: '30000',
      DB_QUERY_TIMEOUT_MS: '30000',
      REQUEST_TIMEOUT_MS: '70000',
    }),
  );
  const instances = await buildInstances(config, createLogger(config));
  const { app, admin } = instances;
  // A failed assertion must not leave the instances running (close is a no-op after shutdown).
  t.after(async () => {
    await db.query('SELECT RELEASE_LOCK(?)', [LOCK]);
    await app.close();
    await admin.close();
  });
  await app.warmUp();
  const { port, listeners } = await listen(instances, config);

  assert.equal(listeners.length, SOCKETS);
  assert.equal(listeners[0], app.server, "the first listener is the HTTP server's own");
  for (const listener of listeners) {
    assert.equal(listener.listening, true);
    assert.equal((listener.address() as AddressInfo).port, port, 'all on the one port');
  }
  assert.equal((app.server.address() as AddressInfo).port, port);

  // Which listener accepted each connection, by the client's port. The HTTP server's own
  // 'connection' also sees the ones the others hand over, so those are recorded first.
  const acceptedBy = new Map<number, Server>();
  const socketTimeouts: (number | undefined)[] = [];
  for (const listener of listeners.slice(1)) {
    listener.prependListener('connection', (socket: Socket) => acceptedBy.set(socket.remotePort!, listener));
  }
  app.server.on('connection', (socket: Socket) => {
    if (!acceptedBy.has(socket.remotePort!)) acceptedBy.set(socket.remotePort!, app.server);
    socketTimeouts.push(socket.timeout);
  });

  const clients = await clientPerListener(port, listeners, acceptedBy);
  await waitFor('the spare connections to close', () => app.connections.openSockets === SOCKETS);
  assert.ok(socketTimeouts.length >= SOCKETS);
  assert.deepEqual(
    new Set(socketTimeouts),
    new Set([app.server.timeout]),
    "every socket, whichever listener accepted it, has the server's timeout",
  );
  assert.ok(app.server.timeout > 0);

  // Hold the only pool connection on a lock, then one request per listener waits for it: in flight.
  await db.query('SELECT GET_LOCK(?, 0)', [LOCK]);
  const hold = app.db.query('SELECT GET_LOCK(?, 30)', [LOCK]);
  await waitFor('the pool connection to wait on the lock', () => app.db.stats().busy === 1);
  for (const c of clients) c.socket.write('GET /articles HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  await waitFor('one request per listener to be in flight', () => app.connections.inFlight === SOCKETS);

  const closing = shutdown(app, admin, { delayMs: 0 });
  await waitFor('the drain to begin', () => app.readiness.draining);
  // Still listening while requests are in flight: a late connection, through any listener, gets 503.
  const late = connect(port, '127.0.0.1');
  await once(late, 'connect');
  let lateAnswer = '';
  late.setEncoding('utf8');
  late.on('data', (chunk: string) => (lateAnswer += chunk));
  late.write('GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  await once(late, 'close');
  assert.match(lateAnswer, /^HTTP\/1\.1 503 /);
  assert.match(lateAnswer, /"code":"SHUTTING_DOWN"/);

  await db.query('SELECT RELEASE_LOCK(?)', [LOCK]);
  await hold;
  await Promise.all(clients.map((c) => once(c.socket, 'close')));
  for (const c of clients) {
    assert.match(c.received, /^HTTP\/1\.1 200 /, 'the request in flight is answered, not reset');
    assert.match(c.received, /^connection: close$/im);
  }
  await closing;

  for (const listener of listeners) assert.equal(listener.listening, false, 'every listener is closed');
  assert.equal(await accepts(port), false, 'nothing accepts on the port any more');
  assert.equal(app.db.stats().total, 0, 'the pool is ended');
});

test('LISTEN_SOCKETS=1: the one listening socket of the HTTP server', async () => {
  const config = loadApiConfig(testEnv(db, { HOST: '127.0.0.1', PORT: '0', ADMIN_PORT: '0', LISTEN_SOCKETS: '1' }));
  const instances = await buildInstances(config, createLogger(config));
  try {
    const { listeners } = await listen(instances, config);
    assert.deepEqual(listeners, [instances.app.server]);
  } finally {
    await instances.app.close();
    await instances.admin.close();
  }
});
