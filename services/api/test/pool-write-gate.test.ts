// The read reserve: writes and transactions hold at most size - readReserve connections, reads get
// the rest at once, and a write slot always comes back, whatever way the write ended.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestDatabase, type TestDatabase, waitFor as until } from '@mokakbab/testkit';
import { PoolUnavailableError } from '../src/db/index.js';
import { makePool } from './pool-helper.js';

describe('write gate (read reserve)', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
  });
  after(() => db.close());

  test('writers hold at most size - reserve connections; a read is served at once meanwhile', async (t) => {
    const pool = makePool(db.url, { size: 4, readReserve: 1, acquireTimeoutMs: 5_000 });
    t.after(() => pool.close());
    await pool.warm();

    const writes = Array.from({ length: 5 }, () => pool.query('SELECT SLEEP(0.4)'));
    await until('3 writers hold connections', () => (pool.writers().inUse === 3 ? true : undefined));
    assert.deepEqual(pool.writers(), { inUse: 3, limit: 3, queued: 2 });
    assert.equal(pool.stats().queued, 2, 'the writers waiting at the gate count as queued acquires');
    assert.equal(pool.stats().busy, 3);
    const readStartedAt = performance.now();
    assert.deepEqual(await pool.readHere('SELECT 7 AS n'), [{ n: 7 }]);
    assert.ok(performance.now() - readStartedAt < 400, 'the read did not wait for a writer to finish');
    assert.equal(pool.writers().inUse, 3);

    await Promise.all(writes);
    assert.deepEqual(pool.writers(), { inUse: 0, limit: 3, queued: 0 });
    assert.equal(pool.stats().idle, 4);
  });

  test('a writer that cannot get a slot in time gets ACQUIRE_TIMEOUT naming the reserve, counted', async (t) => {
    const pool = makePool(db.url, { size: 2, readReserve: 1, acquireTimeoutMs: 300 });
    t.after(() => pool.close());
    await pool.warm();

    const holding = pool.query('SELECT SLEEP(1)');
    const before = pool.rejections().acquire_timeout;
    await assert.rejects(pool.query('SELECT 1'), (err: unknown) => {
      assert.ok(err instanceof PoolUnavailableError);
      assert.equal(err.code, 'ACQUIRE_TIMEOUT');
      assert.match(err.message, /writes hold 1 of their 1/);
      assert.match(err.message, /DB_READ_RESERVE_PERCENT/);
      return true;
    });
    assert.equal(pool.rejections().acquire_timeout, before + 1);
    assert.equal(pool.writers().queued, 0, 'the timed-out writer left the gate');
    assert.deepEqual(await pool.readHere('SELECT 1 AS ok'), [{ ok: 1 }], 'the reserve serves reads');
    await holding;
    assert.equal(pool.writers().inUse, 0, 'the slot went back; none went to the writer that gave up');
    assert.deepEqual(await pool.query('SELECT 2 AS n'), [{ n: 2 }]);
  });

  test('the slot comes back after a failed statement, a rolled-back transaction and a commit', async (t) => {
    const pool = makePool(db.url, { size: 2, readReserve: 1 });
    t.after(() => pool.close());
    await pool.warm();

    await assert.rejects(pool.query('SELECT * FROM no_such_table'), { code: 'ER_NO_SUCH_TABLE' });
    assert.equal(pool.writers().inUse, 0);
    await assert.rejects(
      pool.transaction(async (tx) => {
        await tx.query('SELECT 1');
        assert.equal(pool.writers().inUse, 1, 'a transaction holds its slot to the end');
        throw new Error('roll back');
      }),
      /roll back/,
    );
    assert.equal(pool.writers().inUse, 0);
    assert.deepEqual(await pool.transaction((tx) => tx.query('SELECT 3 AS n')), [{ n: 3 }]);
    assert.equal(pool.writers().inUse, 0);
  });

  test('close() turns away the writers waiting at the gate', async (t) => {
    const pool = makePool(db.url, { size: 2, readReserve: 1, acquireTimeoutMs: 5_000 });
    await pool.warm();
    const holding = pool.query('SELECT SLEEP(0.3)');
    const waiting = pool.query('SELECT 1');
    assert.equal(pool.writers().queued, 1);
    const closed = pool.close();
    await assert.rejects(waiting, (err: unknown) => err instanceof PoolUnavailableError && err.code === 'POOL_CLOSED');
    await holding;
    await closed;
    t.diagnostic(`rejections ${JSON.stringify(pool.rejections())}`);
    assert.equal(pool.rejections().shutting_down, 1);
  });

  test('a reserve the pool cannot spare is refused at construction', () => {
    assert.throws(() => makePool(db.url, { size: 2, readReserve: 2 }), RangeError);
    assert.throws(() => makePool(db.url, { size: 2, readReserve: -1 }), RangeError);
    assert.throws(() => makePool(db.url, { size: 2, readReserve: 0.5 }), RangeError);
  });
});
