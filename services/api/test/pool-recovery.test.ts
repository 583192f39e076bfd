// The pool returns to full size by itself: lifetime recycling under load, and every connection
// KILLed on the server.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { performance } from 'node:perf_hooks';
import { createTestDatabase, type TestDatabase, waitFor as until } from '@mokakbab/testkit';
import { bearer, build, errorBody, signIn } from './helper.js';
import { makePool } from './pool-helper.js';

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

    // Retiring opens the replacement in the same tick, so between events the pool always counts
    // its full size as open or opening; sampled all through the run, not only at the end.
    const shortfalls: string[] = [];
    let samples = 0;
    const sampler = setInterval(() => {
      const { total, connecting, target } = pool.stats();
      samples++;
      if (total + connecting !== target) shortfalls.push(`total ${total} + connecting ${connecting} != ${target}`);
    }, 10);
    t.after(() => clearInterval(sampler));

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
    clearInterval(sampler);

    const stats = pool.stats();
    assert.ok(queries > 30, `queries ran (${queries})`);
    assert.ok(samples > 20, `sampled ${samples} times`);
    assert.deepEqual(shortfalls, [], 'the pool never fell short of its size');
    assert.ok(stats.recycled >= 4, `recycled ${stats.recycled}`);
    assert.equal(new Set(recycledThreads).size, recycledThreads.length, 'each connection retired once');
    assert.ok(stats.replaced >= 1, `replaced ${stats.replaced}`);
    assert.ok(stats.maxConnecting <= 2);
    await until('the pool is full again', () => pool.stats().total === 4);
    assert.equal(await db.serverConnections(), 4, 'retired connections were closed on the server');
  });

  test('every connection KILLed on the server: reads and HTTP requests succeed, the pools are full within 2 s', async (t) => {
    const pool = makePool(db.url, { size: 4 });
    t.after(() => pool.close());
    await pool.warm();
    const api = await build(t, db, { env: { DB_POOL_SIZE: '4' } });
    const { accessToken } = await signIn(api.app, 20);
    const { insertId: articleId } = await db.query<{ insertId: number }>(
      `INSERT INTO article (member_id, category_id, region_id, district_id, title, content, start_time, end_time)
       SELECT 1, (SELECT MIN(id) FROM category), d.region_id, d.id, 'Kill', 'Test', NOW(), NOW() FROM district d LIMIT 1`,
    );
    const processIds = () =>
      db.query<Array<{ id: number }>>(
        'SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()',
        [db.name],
      );
    const before = await processIds();
    assert.equal(before.length, 8, 'four of the bare pool, four of the API');

    const killedAt = Date.now();
    assert.equal(await db.killConnections(), 8);
    for (let i = 0; i < 8; i++) {
      const rows = await pool.read<Array<{ n: number }>>('SELECT COUNT(*) AS n FROM member');
      assert.equal(Number(rows[0]!.n), 20);
    }
    // A read route retries on a fresh connection by itself.
    const list = await api.app.inject({ method: 'GET', url: '/articles?limit=5' });
    assert.equal(list.statusCode, 200);
    // A write is not retried by the API (it cannot know whether it ran): one 503 is allowed when it
    // drew a connection that was dead, and the client retries once, as a real client would.
    const join = () =>
      api.app.inject({ method: 'POST', url: '/participations', headers: bearer(accessToken), payload: { articleId } });
    let joined = await join();
    if (joined.statusCode === 503) {
      assert.equal(errorBody(joined).code, 'DATABASE_UNAVAILABLE');
      joined = await join();
    }
    assert.equal(joined.statusCode, 201);

    const fullWithinMs = Math.max(0, 2_000 - (Date.now() - killedAt));
    await until(
      'both pools are full again',
      () => pool.stats().total === 4 && api.app.db.stats().total === 4,
      fullWithinMs,
    );
    assert.ok(pool.stats().replaced >= 4, `replaced ${pool.stats().replaced}`);
    assert.ok(api.app.db.stats().replaced >= 4, `API replaced ${api.app.db.stats().replaced}`);
    const after = await processIds();
    assert.equal(after.length, 8);
    const oldIds = new Set(before.map((r) => Number(r.id)));
    assert.ok(
      after.every((r) => !oldIds.has(Number(r.id))),
      'all eight are new connections',
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
    const size = 6;
    const connectTimeoutMs = 250;
    const acquireTimeoutMs = 400;
    const pool = makePool(db.url, { size, connectTimeoutMs, acquireTimeoutMs, aliveBypassWindowMs: 50 });
    t.after(() => pool.close());
    await pool.warm();

    process.kill(pid, 'SIGSTOP');
    t.after(() => {
      process.kill(pid, 'SIGCONT');
    });
    // Every idle connection is now past the alive-bypass window: an acquire pings before using one.
    await pause(100);
    assert.equal(pool.stats().idle, size);
    const startedAt = performance.now();
    await assert.rejects(pool.query('SELECT 1'), { name: 'PoolUnavailableError', code: 'ACQUIRE_TIMEOUT' });
    const elapsedMs = performance.now() - startedAt;
    // The deadline bounds the pings too. Without that, each of the six stale connections would cost
    // a whole ping timeout in turn (6 x 250 ms); one ping timeout of slack absorbs late timers on a busy machine.
    const boundMs = acquireTimeoutMs + connectTimeoutMs;
    assert.ok(elapsedMs <= boundMs, `the acquire gave up after ${Math.round(elapsedMs)} ms, bound ${boundMs} ms`);
    await until('a replacement handshake timed out', () => pool.stats().lastError?.code === 'ETIMEDOUT');
    assert.ok(pool.stats().total < size);

    process.kill(pid, 'SIGCONT');
    await until('the pool is full again', () => pool.stats().total === size, 8_000);
    assert.deepEqual(await pool.query('SELECT 1 AS ok'), [{ ok: 1 }]);
  });
});
