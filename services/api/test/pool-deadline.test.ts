// Statement deadlines and the acquire-timeout snapshot, on a real server: the session's own limit
// answers while the server runs (the connection stays), the client timer ends a connection whose
// statement outlives it (the pool replaces it).
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, before, describe, test } from 'node:test';
import { createTestDatabase, type TestDatabase, waitFor as until } from '@mokakbab/testkit';
import { PoolUnavailableError, isUnavailableError } from '../src/db/index.js';
import { sessionSql } from '../src/db/session.js';
import { makePool } from './pool-helper.js';

describe('statement deadlines', () => {
  let db: TestDatabase;
  let version: string;
  before(async () => {
    db = await createTestDatabase();
    const [row] = await db.query<{ v: string }[]>('SELECT VERSION() AS v');
    version = row!.v;
  });
  after(() => db.close());

  test("the session's own limit stops a long statement; the connection stays in the pool", async (t) => {
    const queryTimeoutMs = 300;
    const pool = makePool(db.url, { size: 1, queryTimeoutMs, sessionSql: sessionSql(version, queryTimeoutMs) });
    t.after(() => pool.close());
    await pool.warm();
    const [limits] = await pool.query<{ lockWaitS: number }[]>('SELECT @@innodb_lock_wait_timeout AS lockWaitS');
    assert.equal(Number(limits!.lockWaitS), 1, 'a short lock wait');
    const startedAt = performance.now();
    // A SELECT is covered on both servers (max_execution_time on MySQL is for SELECT only).
    const err = await pool.read('SELECT SLEEP(2) FROM (SELECT 1) AS one').then(
      (rows) => rows,
      (e: unknown) => e,
    );
    const elapsedMs = performance.now() - startedAt;
    // MariaDB and MySQL both answer: an error (1969 / 3024), or MySQL's SLEEP returning 1 when interrupted.
    if (err instanceof Error) assert.ok(isUnavailableError(err), `a 503-class error: ${String(err)}`);
    assert.ok(elapsedMs < 1_500, `stopped after ${Math.round(elapsedMs)} ms`);
    assert.equal(pool.stats().replaced, 0, 'the server answered: no connection was dropped');
    assert.deepEqual(await pool.query('SELECT 1 AS ok'), [{ ok: 1 }]);
  });

  test('the client timer drops a connection whose statement outlives it, and the pool replaces it', async (t) => {
    // No session limit here: only the client timer can stop the statement.
    const pool = makePool(db.url, { size: 2, queryTimeoutMs: 200 });
    t.after(() => pool.close());
    await pool.warm();
    const startedAt = performance.now();
    await assert.rejects(pool.query('SELECT SLEEP(3)'), { name: 'StatementTimeoutError', code: 'STATEMENT_TIMEOUT' });
    const elapsedMs = performance.now() - startedAt;
    assert.ok(elapsedMs < 1_500, `gave up after ${Math.round(elapsedMs)} ms`);
    await until('the pool replaced the connection', () => pool.stats().replaced >= 1 && pool.stats().total === 2);
    assert.deepEqual(await pool.query('SELECT 1 AS ok'), [{ ok: 1 }]);
  });

  test('an acquire timeout carries a snapshot of the pool (HikariCP style)', async (t) => {
    const pool = makePool(db.url, { size: 1, acquireTimeoutMs: 200 });
    t.after(() => pool.close());
    await pool.warm();
    const busy = pool.query('SELECT SLEEP(0.6)');
    await assert.rejects(pool.query('SELECT 1'), (err: unknown) => {
      assert.ok(err instanceof PoolUnavailableError);
      assert.equal(err.code, 'ACQUIRE_TIMEOUT');
      assert.match(err.message, /request timed out after 200 ms \(total=1, active=1, idle=0, waiting=\d+\)/);
      return true;
    });
    await busy;
    assert.equal(pool.rejections().acquire_timeout, 1, 'counted by reason');
  });
});

describe('a database known to be down', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase({ serverOptions: { max_connections: 20 } });
  });
  after(() => db.close());

  test('acquires fail at once with DATABASE_DOWN and Retry-After while the pool probes with one handshake', async (t) => {
    const pool = makePool(db.url, { size: 3, acquireTimeoutMs: 2_000, connectTimeoutMs: 500 });
    t.after(() => pool.close());
    await pool.warm();
    await db.server!.stop();
    await until('the pool knows', async () => {
      await pool.query('SELECT 1').catch(() => undefined);
      return pool.refusal()?.code === 'DATABASE_DOWN';
    });
    const startedAt = performance.now();
    await assert.rejects(pool.query('SELECT 1'), (err: unknown) => {
      assert.ok(err instanceof PoolUnavailableError);
      assert.equal(err.code, 'DATABASE_DOWN');
      assert.ok(err.retryAfterS >= 1);
      return true;
    });
    assert.ok(performance.now() - startedAt < 100, 'at once, not after the acquire timeout');
    assert.ok(pool.rejections().database_down >= 1);
    assert.ok(pool.stats().connecting <= 1, 'probing with one handshake');
  });
});
