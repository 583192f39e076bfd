// The pool returns to full size by itself: lifetime recycling under load, and every connection
// KILLed on the server.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestDatabase, type TestDatabase } from '@mokakbab/db';
import { makePool, until } from './pool-helper.js';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('pool recovery', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
    await db.seed({ members: 20, articles: 5, participations: 10 });
  });
  after(() => db.close());

  test('1 s lifetime: connections recycle under load, every query succeeds, the pool stays full', async (t) => {
    const pool = makePool(db.url, { size: 4, maxLifetimeMs: 1_000, lifetimeJitterMs: 200 });
    t.after(() => pool.close());
    const recycledThreads: number[] = [];
    pool.on('recycle', (threadId) => recycledThreads.push(threadId));
    await pool.warm();

    // Three workers keep three connections busy for ~3 s; the fourth sits idle and retires on its timer.
    const stopAt = Date.now() + 3_000;
    let queries = 0;
    const worker = async () => {
      while (Date.now() < stopAt) {
        const rows = await pool.query<Array<{ n: number }>>('SELECT COUNT(*) AS n FROM member WHERE id > ?', [0]);
        assert.equal(Number(rows[0]!.n), 20);
        queries++;
        await pause(5);
      }
    };
    await Promise.all([worker(), worker(), worker()]);

    const stats = pool.stats();
    assert.ok(queries > 30, `queries ran (${queries})`);
    assert.ok(stats.recycled >= 4, `recycled ${stats.recycled}`);
    assert.equal(recycledThreads.length, stats.recycled);
    assert.ok(stats.replaced >= 1, `replaced ${stats.replaced}`);
    assert.ok(stats.maxConnecting <= 2);
    await until('the pool is full again', () => pool.stats().total === 4);
    assert.equal(await db.serverConnections(), 4, 'retired connections were closed on the server');
  });

  test('every connection KILLed on the server: reads succeed and the pool is full within 2 s', async (t) => {
    const pool = makePool(db.url, { size: 4 });
    t.after(() => pool.close());
    await pool.warm();
    const before = await db.query<Array<{ id: number }>>(
      'SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()',
      [db.name],
    );
    assert.equal(before.length, 4);

    const killedAt = Date.now();
    assert.equal(await db.killConnections(), 4);
    for (let i = 0; i < 8; i++) {
      const rows = await pool.read<Array<{ n: number }>>('SELECT COUNT(*) AS n FROM member');
      assert.equal(Number(rows[0]!.n), 20);
    }
    await until('the pool is full again', () => pool.stats().total === 4, Math.max(0, 2_000 - (Date.now() - killedAt)));
    const stats = pool.stats();
    assert.ok(stats.replaced >= 4, `replaced ${stats.replaced}`);
    const after = await db.query<Array<{ id: number }>>(
      'SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()',
      [db.name],
    );
    assert.equal(after.length, 4);
    const oldIds = new Set(before.map((r) => Number(r.id)));
    assert.ok(
      after.every((r) => !oldIds.has(Number(r.id))),
      'all four are new connections',
    );
  });

  test('a connection killed while busy: read() retries once on a fresh connection', async (t) => {
    const pool = makePool(db.url, { size: 2 });
    t.after(() => pool.close());
    await pool.warm();
    // Kill the connection that runs the read, mid-statement.
    const reading = pool.read<Array<{ id: number; slept: number }>>(
      'SELECT CONNECTION_ID() AS id, SLEEP(0.3) AS slept',
    );
    let victim: number | undefined;
    await until('the read is running', async () => {
      const rows = await db.query<Array<{ id: number }>>(
        "SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = ? AND INFO LIKE 'SELECT CONNECTION_ID()%'",
        [db.name],
      );
      victim = rows[0] ? Number(rows[0].id) : undefined;
      return victim !== undefined;
    });
    await db.query(`KILL CONNECTION ${Number(victim)}`);
    const rows = await reading;
    assert.notEqual(Number(rows[0]!.id), victim, 'the answer came from another connection');
    await until('the pool is full again', () => pool.stats().total === 2, 2_000);
  });
});

describe('a frozen server (SIGSTOP)', () => {
  let db: TestDatabase;
  before(async () => {
    // Its own server, so freezing it disturbs nobody else.
    db = await createTestDatabase({ serverOptions: { max_connections: 40 } });
  });
  after(() => db.close());

  test('acquires fail with ACQUIRE_TIMEOUT instead of hanging; after SIGCONT the pool refills', async (t) => {
    const pid = db.server!.pid;
    const pool = makePool(db.url, {
      size: 2,
      connectTimeoutMs: 250,
      acquireTimeoutMs: 400,
      aliveBypassWindowMs: 50,
    });
    t.after(() => pool.close());
    await pool.warm();

    process.kill(pid, 'SIGSTOP');
    t.after(() => {
      process.kill(pid, 'SIGCONT');
    });
    await pause(100);
    // Both idle connections fail their ping, the replacements' handshakes time out.
    await assert.rejects(pool.query('SELECT 1'), { name: 'PoolUnavailableError', code: 'ACQUIRE_TIMEOUT' });
    await until('a replacement handshake timed out', () => pool.stats().lastError?.code === 'ETIMEDOUT');
    assert.ok(pool.stats().total < 2);

    process.kill(pid, 'SIGCONT');
    await until('the pool is full again', () => pool.stats().total === 2, 8_000);
    assert.deepEqual(await pool.query('SELECT 1 AS ok'), [{ ok: 1 }]);
  });
});
