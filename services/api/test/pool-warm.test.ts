// Warm-up of the pool against a real server: size, bounded handshakes, idempotence, and the
// failures it must ride out (server full, nothing listening).
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { createServer, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import mysql from 'mysql2/promise';
import { connectionOptions } from '@mokakbab/config';
import { createTestDatabase, type TestDatabase, waitFor as until } from '@mokakbab/testkit';
import { PoolWarmError } from '../src/db/index.js';
import { makePool } from './pool-helper.js';

/** Waits until the server has dropped the connections of earlier tests. */
async function quietServer(db: TestDatabase): Promise<void> {
  await until('earlier connections are gone', async () => (await db.serverConnections()) === 0);
}

describe('warm-up on a shared server', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
  });
  after(() => db.close());

  test('opens exactly `size` validated connections, at most warmConcurrency at a time', async (t) => {
    const pool = makePool(db.url, { size: 12, warmConcurrency: 3 });
    t.after(() => pool.close());
    await quietServer(db);
    assert.equal(pool.stats().total, 0, 'nothing opens before warm()');

    const stats = await pool.warm();

    assert.equal(stats.target, 12);
    assert.equal(stats.total, 12);
    assert.equal(stats.idle, 12);
    assert.equal(stats.busy, 0);
    assert.equal(stats.connecting, 0);
    assert.equal(stats.warm, true);
    assert.ok(stats.warmedAt && !Number.isNaN(Date.parse(stats.warmedAt)));
    assert.ok(typeof stats.lastWarmMs === 'number' && stats.lastWarmMs >= 0);
    assert.ok(stats.maxConnecting >= 1 && stats.maxConnecting <= 3, `maxConnecting ${stats.maxConnecting}`);
    assert.equal(await db.serverConnections(), 12, 'the server sees 12 more connections');
    assert.deepEqual(stats.connectErrors, {});
  });

  test('is idempotent: concurrent callers share one warm-up, a second one opens nothing', async (t) => {
    const pool = makePool(db.url, { size: 5, warmConcurrency: 2 });
    t.after(() => pool.close());
    await quietServer(db);

    const first = pool.warm();
    const second = pool.warm();
    assert.equal(first, second, 'concurrent calls share the in-flight warm-up');
    const [a, b] = await Promise.all([first, second]);
    assert.equal(a.total, 5);
    assert.equal(b.total, 5);
    assert.equal(await db.serverConnections(), 5);

    const again = await pool.warm();
    assert.equal(again.total, 5);
    assert.equal(again.idle, 5, 'the re-validated connections are back on the idle stack');
    assert.equal(await db.serverConnections(), 5, 'a warm-up of a full pool opens nothing');
    assert.ok(again.maxConnecting <= 2);
    assert.deepEqual(await pool.query<Array<{ one: number }>>('SELECT ? AS one', [1]), [{ one: 1 }]);
  });

  test('a closed port: warm() rejects after warmTimeoutMs with ECONNREFUSED, nothing crashes', async (t) => {
    const closedPort = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    const nowhere = new URL(db.url.href);
    nowhere.port = String(closedPort);
    const pool = makePool(nowhere, { size: 3, warmTimeoutMs: 700 });
    t.after(() => pool.close());
    const errors: string[] = [];
    pool.on('connect-error', (code) => errors.push(code));

    await assert.rejects(pool.warm(), (err: unknown) => {
      assert.ok(err instanceof PoolWarmError);
      assert.equal(err.code, 'WARM_TIMEOUT');
      assert.match(err.message, /ECONNREFUSED/);
      return true;
    });
    const stats = pool.stats();
    assert.equal(stats.warm, false);
    assert.equal(stats.total, 0);
    assert.equal(stats.lastError?.code, 'ECONNREFUSED');
    assert.ok((stats.connectErrors.ECONNREFUSED ?? 0) >= 2, 'it kept retrying');
    assert.ok(errors.includes('ECONNREFUSED'));
    await pool.close();

    const fixed = makePool(db.url, { size: 3 });
    t.after(() => fixed.close());
    assert.equal((await fixed.warm()).total, 3, 'pointed back at the server, a new pool warms');
  });

  test('a server that accepts but never answers: connectTimeoutMs bounds each handshake', async (t) => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    t.after(() => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => silent.close(() => resolve()));
    });
    const mute = new URL(db.url.href);
    mute.port = String((silent.address() as { port: number }).port);
    const pool = makePool(mute, { size: 2, connectTimeoutMs: 150, warmTimeoutMs: 1_000, acquireTimeoutMs: 300 });
    t.after(() => pool.close());

    await assert.rejects(pool.warm(), { name: 'PoolWarmError', code: 'WARM_TIMEOUT' });
    // No connection open and the last connect failed: refused at once instead of waiting out the acquire timeout.
    const startedAt = performance.now();
    await assert.rejects(pool.query('SELECT 1'), { name: 'PoolUnavailableError', code: 'DATABASE_DOWN' });
    assert.ok(performance.now() - startedAt < 300, 'refused before the acquire timeout');
    const stats = pool.stats();
    assert.equal(stats.lastError?.code, 'ETIMEDOUT');
    assert.ok((stats.connectErrors.ETIMEDOUT ?? 0) >= 2);
    assert.ok(stats.connecting <= 2);
  });

  test('an error retrying cannot fix (unknown database) fails the warm-up at once', async (t) => {
    const wrong = new URL(db.url.href);
    wrong.pathname = '/no_such_database_here';
    const pool = makePool(wrong, { size: 2, warmTimeoutMs: 10_000 });
    t.after(() => pool.close());
    await assert.rejects(pool.warm(), { name: 'PoolWarmError', code: 'WARM_FAILED' });
    assert.equal(pool.stats().lastError?.code, 'ER_BAD_DB_ERROR');
  });
});

describe('warm-up against a full server (max_connections)', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase({ serverOptions: { max_connections: 8 } });
  });
  after(() => db.close());

  test('retries ER_CON_COUNT_ERROR and completes once another client lets go', async (t) => {
    // Another client takes every connection the server will give.
    const hogs: mysql.Connection[] = [];
    t.after(() => Promise.all(hogs.map((c) => c.end().catch(() => undefined))));
    for (let i = 0; i < 30; i++) {
      try {
        hogs.push(await mysql.createConnection(connectionOptions(db.url)));
      } catch (err) {
        assert.equal((err as { code?: string }).code, 'ER_CON_COUNT_ERROR');
        break;
      }
    }
    assert.ok(hogs.length >= 4 && hogs.length < 30, `the other client holds ${hogs.length}`);

    const pool = makePool(db.url, { size: 4, warmConcurrency: 2, warmTimeoutMs: 20_000 });
    t.after(() => pool.close());
    let settled = false;
    const warming = pool.warm().finally(() => {
      settled = true;
    });
    await until('the pool saw 1040', () => (pool.stats().connectErrors.ER_CON_COUNT_ERROR ?? 0) >= 2);
    assert.equal(settled, false, 'the warm-up waits while the server is full');

    for (const conn of hogs.splice(0, 4)) await conn.end();
    const stats = await warming;

    assert.equal(stats.total, 4);
    assert.equal(stats.warm, true);
    assert.ok((stats.connectErrors.ER_CON_COUNT_ERROR ?? 0) >= 2);
    assert.equal(stats.lastError?.code, 'ER_CON_COUNT_ERROR');
    assert.ok(stats.maxConnecting <= 2);
  });
});
