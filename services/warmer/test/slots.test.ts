// Fleet warm slots against a real database: GET_LOCK semantics, no connection while idle,
// locks freed when the session dies, a short wait_timeout kept alive by pings, retries while the
// database is unreachable.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { createTestDatabase, freePort, type TestDatabase, waitFor } from '@mokakbab/testkit';
import { FleetSlots } from '../src/index.js';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase({ migrate: false });
});
after(async () => {
  await db?.close();
});

// GET_LOCK names are server-wide: a unique prefix keeps tests sharing a server apart.
const prefix = () => `t.${randomUUID().slice(0, 8)}`;

const fast = { initialMs: 20, maxMs: 100 };
const warmTimeoutMs = 60_000;

/** Two warmers of one fleet (the same prefix) with K=1. */
function twoWarmersOneSlot(): [FleetSlots, FleetSlots] {
  const p = prefix();
  const slots = () => new FleetSlots({ databaseUrl: db.url, slots: 1, prefix: p, backoff: fast, warmTimeoutMs });
  return [slots(), slots()];
}

test('K slots are handed out once each; the next waits for a release', async () => {
  const slots = new FleetSlots({ databaseUrl: db.url, slots: 2, prefix: prefix(), backoff: fast, warmTimeoutMs });
  const ac = new AbortController();
  try {
    const a = await slots.acquire(ac.signal);
    const b = await slots.acquire(ac.signal);
    assert.ok(a && b);
    assert.notEqual(a.index, b.index, 'one session must not take the same (re-entrant) lock twice');
    const reasons: string[] = [];
    const third = slots.acquire(ac.signal, (reason) => reasons.push(reason));
    await waitFor('a busy wait', async () => (reasons.length > 0 ? true : undefined));
    assert.match(reasons[0] ?? '', /all 2 warm slots are taken/);
    await a.release();
    const c = await third;
    assert.equal(c?.index, a.index);
    assert.ok((c?.waitMs ?? 0) > 0);
    await b.release();
    await c?.release();
  } finally {
    await slots.close();
  }
});

test('two warmers with K=1 exclude each other, and an idle warmer holds no connection', async () => {
  const [one, two] = twoWarmersOneSlot();
  const ac = new AbortController();
  try {
    const a = await one.acquire(ac.signal);
    assert.ok(a);
    let bGot = false;
    const b = two.acquire(ac.signal).then((lease) => {
      bGot = true;
      return lease;
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(bGot, false);
    await a.release();
    const lease = await b;
    assert.ok(lease);
    await lease.release();
    await waitFor('no slot connection left', async () => ((await db.serverConnections()) === 0 ? true : undefined));
    assert.equal(one.status().connected, false);
    assert.equal(two.status().connected, false);
  } finally {
    ac.abort();
    await Promise.all([one.close(), two.close()]);
  }
});

test('a killed session frees its slot for another warmer', async () => {
  const [one, two] = twoWarmersOneSlot();
  const ac = new AbortController();
  try {
    const a = await one.acquire(ac.signal);
    assert.ok(a);
    assert.equal(await db.killConnections(), 1);
    const b = await two.acquire(ac.signal);
    assert.equal(b?.index, 0);
    await a.release(); // a no-op: the lock died with its session
    await waitFor('the lost slot forgotten', async () => (one.status().held.length === 0 ? true : undefined));
    await b?.release();
  } finally {
    await Promise.all([one.close(), two.close()]);
  }
});

test('an unreachable database is retried with the reason reported, and abort ends the wait', async () => {
  const url = new URL(`mysql://root@127.0.0.1:${await freePort()}/nothing`);
  const slots = new FleetSlots({ databaseUrl: url, slots: 1, prefix: prefix(), backoff: fast, warmTimeoutMs });
  const ac = new AbortController();
  const reasons: { reason: string; kind: string }[] = [];
  const pending = slots.acquire(ac.signal, (reason, kind) => reasons.push({ reason, kind }));
  await waitFor('two failed tries', async () => (reasons.length >= 2 ? true : undefined));
  assert.equal(reasons[0]?.kind, 'database');
  assert.match(reasons[0]?.reason ?? '', /slot database unreachable: .*ECONNREFUSED/);
  assert.match(slots.status().lastError ?? '', /ECONNREFUSED/);
  ac.abort();
  assert.equal(await pending, undefined);
  await slots.close();
});

test("the slot session's wait_timeout follows the warm timeout, and a held lease pings", async () => {
  const slots = new FleetSlots({
    databaseUrl: db.url,
    slots: 1,
    prefix: prefix(),
    backoff: fast,
    warmTimeoutMs: 4_500,
    pingIntervalMs: 200,
  });
  const ac = new AbortController();
  try {
    assert.equal(slots.waitTimeoutS, 5 + 30);
    const lease = await slots.acquire(ac.signal);
    assert.ok(lease);
    // Read back by the server over the slot connection itself: the value it enforces.
    assert.equal(slots.status().waitTimeoutS, 35);
    // While the lease is held, the session never stays idle: its processlist Time keeps resetting.
    const slotSession = async () => {
      const rows = await db.query<{ time: number; command: string }[]>(
        'SELECT TIME AS time, COMMAND AS command FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()',
        [db.name],
      );
      assert.equal(rows.length, 1, 'one slot connection');
      return rows[0]!;
    };
    const deadline = Date.now() + 2_500;
    while (Date.now() < deadline) {
      const row = await slotSession();
      assert.ok(row.time <= 1, `the holder was idle ${row.time} s despite 200 ms pings`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await lease.release();
    assert.equal(slots.status().connected, false);
  } finally {
    await slots.close();
  }
});

test("a lease reads the server's room on its own session: max_connections, connections, other holders", async () => {
  const p = prefix();
  const one = new FleetSlots({ databaseUrl: db.url, slots: 2, prefix: p, backoff: fast, warmTimeoutMs });
  const two = new FleetSlots({ databaseUrl: db.url, slots: 2, prefix: p, backoff: fast, warmTimeoutMs });
  const ac = new AbortController();
  try {
    const [limit] = await db.query<{ m: number }[]>('SELECT @@GLOBAL.max_connections AS m');
    const a = await one.acquire(ac.signal);
    assert.ok(a);
    const alone = await a.room();
    assert.equal(alone.maxConnections, Number(limit!.m));
    assert.equal(alone.otherHolders, 0);
    // The harness's session and this slot's at least.
    assert.ok(alone.threadsConnected >= 2, `Threads_connected ${alone.threadsConnected}`);
    const b = await two.acquire(ac.signal);
    assert.ok(b);
    const both = await a.room();
    assert.equal(both.otherHolders, 1, 'the other warmer holds a slot: it may be warming');
    // A server shared with other test files moves on its own: only a floor is certain.
    assert.ok(both.threadsConnected >= 3, "the harness's and both warmers' sessions");
    assert.equal((await b.room()).otherHolders, 1);
    await b.release();
    assert.equal((await a.room()).otherHolders, 0);
    await a.release();
    await assert.rejects(a.room(), /slot 0 was lost with its connection/);
  } finally {
    await Promise.all([one.close(), two.close()]);
  }
});
