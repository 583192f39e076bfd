// Bounded waiting: acquire timeout, queue limit, and close() with work in flight.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestDatabase, type TestDatabase, waitFor as until } from '@mokakbab/testkit';
import { PoolUnavailableError } from '../src/db/index.js';
import { makePool } from './pool-helper.js';

function isUnavailable(code: PoolUnavailableError['code']) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof PoolUnavailableError, `expected PoolUnavailableError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.ok(Number.isInteger(err.retryAfterS) && err.retryAfterS >= 1);
    return true;
  };
}

describe('acquire with every connection busy', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
  });
  after(() => db.close());

  test('a third acquire times out (ACQUIRE_TIMEOUT) before the sleeps end, and leaves the queue', async (t) => {
    const pool = makePool(db.url, { size: 2, acquireTimeoutMs: 300 });
    t.after(() => pool.close());
    await pool.warm();

    let sleepsDone = false;
    const sleeps = Promise.all([pool.query('SELECT SLEEP(2)'), pool.query('SELECT SLEEP(2)')]).then(() => {
      sleepsDone = true;
    });
    const third = pool.query('SELECT 1');
    assert.equal(pool.stats().queued, 1);
    await assert.rejects(third, isUnavailable('ACQUIRE_TIMEOUT'));
    assert.equal(sleepsDone, false, 'it failed while both connections were still busy');
    assert.equal(pool.stats().queued, 0, 'the timed-out waiter left the queue');
    assert.equal(pool.stats().busy, 2);

    await sleeps;
    const stats = pool.stats();
    assert.equal(stats.idle, 2, 'both connections came back; none went to the dead waiter');
    assert.equal(stats.busy, 0);
    assert.deepEqual(await pool.query('SELECT 1 AS ok'), [{ ok: 1 }]);
  });

  test('a waiter gets the connection released before its timeout', async (t) => {
    const pool = makePool(db.url, { size: 1, acquireTimeoutMs: 5_000 });
    t.after(() => pool.close());
    await pool.warm();
    const sleep = pool.query('SELECT SLEEP(0.2)');
    const waiting = pool.query<Array<{ n: number }>>('SELECT 2 AS n');
    assert.equal(pool.stats().queued, 1);
    await sleep;
    assert.deepEqual(await waiting, [{ n: 2 }]);
    assert.equal(pool.stats().total, 1);
  });

  test('queueLimit 0: an acquire with nothing idle gets QUEUE_FULL at once', async (t) => {
    const pool = makePool(db.url, { size: 1, queueLimit: 0 });
    t.after(() => pool.close());
    await pool.warm();
    let sleepDone = false;
    const sleep = pool.query('SELECT SLEEP(1)').then(() => {
      sleepDone = true;
    });
    await assert.rejects(pool.query('SELECT 1'), isUnavailable('QUEUE_FULL'));
    assert.equal(sleepDone, false);
    assert.equal(pool.stats().queued, 0);
    await sleep;
  });

  test('a statement error does not cost the connection', async (t) => {
    const pool = makePool(db.url, { size: 1 });
    t.after(() => pool.close());
    await pool.warm();
    await assert.rejects(pool.query('SELECT * FROM no_such_table'), { code: 'ER_NO_SUCH_TABLE' });
    await assert.rejects(pool.read('SELECT * FROM no_such_table'), { code: 'ER_NO_SUCH_TABLE' });
    const stats = pool.stats();
    assert.equal(stats.total, 1);
    assert.equal(stats.replaced, 0);
  });

  test('transaction commits on success and rolls back when fn throws', async (t) => {
    const pool = makePool(db.url, { size: 2 });
    t.after(() => pool.close());
    await pool.warm();
    const name = `tx-${process.pid}`;
    await pool.transaction(async (tx) => {
      await tx.query('INSERT INTO category (name) VALUES (?)', [name]);
    });
    await assert.rejects(
      pool.transaction(async (tx) => {
        await tx.query('INSERT INTO category (name) VALUES (?)', [`${name}-rolled-back`]);
        throw new Error('changed my mind');
      }),
      /changed my mind/,
    );
    const rows = await pool.query<Array<{ name: string }>>('SELECT name FROM category WHERE name LIKE ?', [`${name}%`]);
    assert.deepEqual(
      rows.map((r) => r.name),
      [name],
    );
    assert.equal(pool.stats().total, 2);
    assert.equal(pool.stats().busy, 0);
  });

  test('a deadlocked transaction is retried: both writers finish and both writes are there', async (t) => {
    const pool = makePool(db.url, { size: 2 });
    t.after(() => pool.close());
    await pool.warm();
    const [a, b] = [`dl-a-${process.pid}`, `dl-b-${process.pid}`];
    await pool.query('INSERT INTO category (name) VALUES (?), (?)', [a, b]);
    let bothLocked!: () => void;
    const barrier = new Promise<void>((resolve) => (bothLocked = resolve));
    let lockedFirst = 0;
    let attempts = 0;
    // Two transactions lock the same two rows in opposite orders: InnoDB must pick a victim.
    const lockBoth = (first: string, second: string) =>
      pool.transaction(async (tx) => {
        attempts++;
        await tx.query('SELECT id FROM category WHERE name = ? FOR UPDATE', [first]);
        if (++lockedFirst === 2) bothLocked();
        await barrier;
        await tx.query('UPDATE category SET name = CONCAT(name, ?) WHERE name = ?', ['+', second]);
      });
    await Promise.all([lockBoth(a, b), lockBoth(b, a)]);
    assert.ok(attempts >= 3, `the victim ran again (attempts ${attempts})`);
    const rows = await pool.query<Array<{ name: string }>>(
      'SELECT name FROM category WHERE name LIKE ? ORDER BY name',
      [`dl-%-${process.pid}%`],
    );
    assert.deepEqual(
      rows.map((r) => r.name),
      [`${a}+`, `${b}+`],
    );
    assert.equal(pool.stats().busy, 0);
  });
});

describe('close()', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
  });
  after(() => db.close());

  test('lets in-flight queries finish, rejects queued and new acquires, then ends every connection', async () => {
    const pool = makePool(db.url, { size: 2 });
    await pool.warm();
    assert.equal(await db.serverConnections(), 2);

    const inFlight = [
      pool.query<Array<{ done: number }>>('SELECT SLEEP(0.5) AS done'),
      pool.query<Array<{ done: number }>>('SELECT SLEEP(0.5) AS done'),
    ];
    const queued = pool.query('SELECT 1');
    let closed = false;
    const closing = pool.close().then(() => {
      closed = true;
    });

    await assert.rejects(queued, isUnavailable('POOL_CLOSED'));
    await assert.rejects(pool.query('SELECT 1'), isUnavailable('POOL_CLOSED'));
    assert.equal(closed, false, 'close waits for the connections in use');
    assert.deepEqual(await Promise.all(inFlight), [[{ done: 0 }], [{ done: 0 }]]);
    await closing;
    assert.equal(pool.stats().total, 0);
    await assert.rejects(pool.warm(), { name: 'PoolWarmError', code: 'POOL_CLOSED' });
    await until('the server has no pool connection left', async () => (await db.serverConnections()) === 0);
  });
});
