import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import mysql from 'mysql2/promise';
import { pino } from 'pino';
import { connectionOptions } from '@mokakbab/config';
import { createTestDatabase, waitFor as waitUntil, type TestDatabase } from '@mokakbab/testkit';
import { Denylist, type DenylistDb } from '../src/auth/denylist.js';
import { newTokenId } from '../src/auth/token-id.js';

const POLL_MS = 100;
// Generous for a loaded CI machine; a passing wait ends as soon as its condition holds.
const WAIT_MS = 30 * POLL_MS;

let db: TestDatabase;
const pools: mysql.Pool[] = [];
const denylists: Denylist[] = [];

before(async () => {
  db = await createTestDatabase();
});

after(async () => {
  for (const d of denylists) d.stop();
  await Promise.all(pools.map((p) => p.end().catch(() => undefined)));
  await db.close();
});

function openPool(): mysql.Pool {
  const pool = mysql.createPool({ ...connectionOptions(db.url), connectionLimit: 2 });
  pools.push(pool);
  return pool;
}

/** A real mysql2 pool as the DenylistDb; `pool` can be swapped to simulate an outage and recovery. */
function poolDb(initial = openPool()): DenylistDb & { pool: mysql.Pool } {
  return {
    pool: initial,
    async query<T>(sql: string, params?: unknown[]): Promise<T> {
      const [rows] = await this.pool.query(sql, params);
      return rows as T;
    },
  };
}

function capturingLogger(): { logger: pino.Logger; lines: Array<{ msg: string }> } {
  const lines: Array<{ msg: string }> = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, lines };
}

function denylist(
  opts: {
    db?: DenylistDb;
    now?: () => number;
    logger?: pino.Logger;
    purgeEveryPolls?: number;
    maxEntries?: number;
    maxSignOutsPerMember?: number;
  } = {},
): Denylist {
  const d = new Denylist({
    db: opts.db ?? poolDb(),
    pollIntervalMs: POLL_MS,
    accessTokenTtlS: 900,
    logger: opts.logger ?? capturingLogger().logger,
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.purgeEveryPolls ? { purgeEveryPolls: opts.purgeEveryPolls } : {}),
    ...(opts.maxEntries ? { maxEntries: opts.maxEntries } : {}),
    ...(opts.maxSignOutsPerMember ? { maxSignOutsPerMember: opts.maxSignOutsPerMember } : {}),
  });
  denylists.push(d);
  return d;
}

// Polls often: the revocations under test travel within a few 50 ms denylist polls.
const waitFor = (what: string, condition: () => boolean, timeoutMs = WAIT_MS) =>
  waitUntil(what, condition, timeoutMs, 10);

const inMinutes = (minutes: number): Date => new Date(Date.now() + minutes * 60_000);

test('a revocation applies at once locally and reaches another instance within a few polls', async () => {
  const a = denylist();
  const b = denylist();
  await a.start();
  await b.start();
  const jti = randomUUID();
  await a.revoke(jti, 1, inMinutes(15));
  assert.equal(a.has(jti), true);
  await waitFor('instance b to see the revocation', () => b.has(jti));
  const [row] = await db.query<Array<{ member_id: number }>>(
    'SELECT member_id FROM access_token_denylist WHERE jti = ?',
    [jti],
  );
  assert.equal(row?.member_id, 1);
});

test('start() loads unexpired rows and skips expired ones; revoking twice is harmless', async () => {
  const writer = denylist();
  const live = randomUUID();
  const old = randomUUID();
  await writer.revoke(live, 2, inMinutes(15));
  await writer.revoke(live, 2, inMinutes(15));
  await db.query(
    'INSERT INTO access_token_denylist (jti, member_id, expires_at, created_at) VALUES (?, 2, UTC_TIMESTAMP(3) - INTERVAL 1 MINUTE, UTC_TIMESTAMP(3))',
    [old],
  );
  const reader = denylist();
  await reader.start();
  assert.equal(reader.has(live), true);
  assert.equal(reader.has(old), false);
});

test('expired entries are dropped from memory', async () => {
  let clockMs = Date.now();
  const d = denylist({ now: () => clockMs });
  await d.start();
  const soon = randomUUID();
  const later = randomUUID();
  await d.revoke(soon, 3, new Date(clockMs + 60_000));
  await d.revoke(later, 3, new Date(clockMs + 3_600_000));
  assert.equal(d.has(soon), true);
  clockMs += 61_000;
  await waitFor('the expired entry to be dropped', () => !d.has(soon));
  assert.equal(d.has(later), true);
});

test('a row committed after a later-stamped one was polled is still picked up', async () => {
  const reader = denylist();
  await reader.start();
  const slow = await mysql.createConnection(connectionOptions(db.url));
  try {
    const late = randomUUID();
    const early = randomUUID();
    await slow.beginTransaction();
    // Stamped now, but invisible to the reader until the commit below.
    await slow.query(
      'INSERT INTO access_token_denylist (jti, member_id, expires_at, created_at) VALUES (?, 4, UTC_TIMESTAMP(3) + INTERVAL 15 MINUTE, UTC_TIMESTAMP(3))',
      [late],
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    await denylist().revoke(early, 4, inMinutes(15));
    await waitFor('the reader to see the row committed first', () => reader.has(early));
    await slow.commit();
    await waitFor('the reader to see the row stamped earlier but committed later', () => reader.has(late));
  } finally {
    await slow.end();
  }
});

test('a database outage is logged, loses no entry, and polling resumes afterwards', async () => {
  const { logger, lines } = capturingLogger();
  const reader = poolDb();
  const d = denylist({ db: reader, logger });
  const kept = randomUUID();
  await d.revoke(kept, 5, inMinutes(15));
  await d.start();
  const sizeBefore = d.size();

  await reader.pool.end();
  await waitFor('two failed polls', () => lines.filter((l) => l.msg === 'denylist poll failed').length >= 2);
  assert.equal(d.has(kept), true);
  assert.deepEqual(d.size(), sizeBefore);

  reader.pool = openPool();
  const revokedDuringRecovery = randomUUID();
  await denylist().revoke(revokedDuringRecovery, 5, inMinutes(15));
  await waitFor('the revocation after recovery', () => d.has(revokedDuringRecovery));
  assert.ok(lines.some((l) => l.msg === 'denylist poll recovered'));
  assert.equal(d.has(kept), true);
});

test('expired rows are purged from the table every N polls; recent and unexpired ones stay', async () => {
  const { logger, lines } = capturingLogger();
  const insert = (jti: string, expiresSql: string) =>
    db.query(
      `INSERT INTO access_token_denylist (jti, member_id, expires_at, created_at) VALUES (?, 6, ${expiresSql}, UTC_TIMESTAMP(3))`,
      [jti],
    );
  const expired = [randomUUID(), randomUUID(), randomUUID()];
  for (const jti of expired) await insert(jti, 'UTC_TIMESTAMP(3) - INTERVAL 2 MINUTE');
  const withinSlack = randomUUID();
  await insert(withinSlack, 'UTC_TIMESTAMP(3) - INTERVAL 10 SECOND');
  const live = randomUUID();
  await insert(live, 'UTC_TIMESTAMP(3) + INTERVAL 15 MINUTE');
  const present = async (jtis: string[]) =>
    (await db.query<Array<{ jti: string }>>('SELECT jti FROM access_token_denylist WHERE jti IN (?)', [jtis])).map(
      (r) => r.jti,
    );

  const d = denylist({ logger, purgeEveryPolls: 2 });
  await d.start();
  await waitFor('a purge', () => lines.some((l) => l.msg === 'purged expired token rows'));
  assert.deepEqual(await present(expired), []);
  assert.deepEqual((await present([withinSlack, live])).sort(), [withinSlack, live].sort());
  assert.equal(d.has(live), true);
});

test('a failed purge is logged and polling goes on', async () => {
  const { logger, lines } = capturingLogger();
  const real = poolDb();
  const failingPurge: DenylistDb = {
    query<T>(sql: string, params?: unknown[]): Promise<T> {
      if (sql.startsWith('DELETE')) return Promise.reject(new Error('purge refused'));
      return real.query<T>(sql, params);
    },
  };
  const d = denylist({ db: failingPurge, logger, purgeEveryPolls: 1 });
  await d.start();
  await waitFor('two failed purges', () => lines.filter((l) => l.msg === 'token tables purge failed').length >= 2);
  const jti = randomUUID();
  await denylist().revoke(jti, 6, inMinutes(15));
  await waitFor('a revocation seen after the failures', () => d.has(jti));
});

test('start() rejects when the database is unreachable', async () => {
  const pool = openPool();
  await pool.end();
  const d = denylist({ db: poolDb(pool) });
  await assert.rejects(d.start());
});

/** Claims of a token of `memberId` issued at `issuedMs`. */
const claims = (memberId: number, issuedMs: number) => ({
  jti: newTokenId(issuedMs),
  sub: String(memberId),
  iat: Math.floor(issuedMs / 1000),
});

test('at the in-memory bound the oldest jti is folded into a member cutoff, never forgotten', async () => {
  // Not started: memory holds only what this test revokes, not the rows of earlier tests.
  const d = denylist({ maxEntries: 2 });
  const issuedMs = Date.now() - 1_000;
  const first = claims(21, issuedMs);
  await d.revoke(first.jti, 21, inMinutes(15));
  await d.revoke(claims(22, issuedMs).jti, 22, inMinutes(15));
  await d.revoke(claims(23, issuedMs).jti, 23, inMinutes(15));
  assert.deepEqual(d.size(), { jtis: 2, members: 1, folded: 1 });
  assert.equal(d.isRevoked(first), true, 'the folded token is still refused');
  assert.equal(d.isRevoked(claims(21, issuedMs - 60_000)), true, 'so is an older token of that member');
  assert.equal(d.isRevoked(claims(21, Date.now() + 1)), false, 'a token issued after that sign-out works');
});

test('sign-outs beyond the per-member limit become one member revocation, seen by other instances', async () => {
  const writer = denylist({ maxSignOutsPerMember: 3 });
  const reader = denylist();
  await reader.start();
  const memberId = 31;
  const issuedMs = Date.now() - 1_000;
  for (let i = 0; i < 4; i++) await writer.revoke(claims(memberId, issuedMs).jti, memberId, inMinutes(15));
  const rows = await db.query<Array<{ n: number }>>(
    'SELECT COUNT(*) AS n FROM access_token_denylist WHERE member_id = ?',
    [memberId],
  );
  assert.equal(rows[0]!.n, 0, 'the revocation replaces the rows it covers');
  const [revocation] = await db.query<Array<{ member_id: number }>>(
    'SELECT member_id FROM member_revocation WHERE member_id = ?',
    [memberId],
  );
  assert.equal(revocation?.member_id, memberId);
  await waitFor("the other instance to refuse the member's older tokens", () =>
    reader.isRevoked(claims(memberId, issuedMs)),
  );
  assert.equal(reader.isRevoked(claims(memberId, Date.now() + 1_000)), false);
});

test('start() loads member revocations of the last access-token lifetime only', async () => {
  await db.query(
    `INSERT INTO member_revocation (member_id, revoked_before) VALUES
       (41, UTC_TIMESTAMP(3) - INTERVAL 1 MINUTE), (42, UTC_TIMESTAMP(3) - INTERVAL 1 DAY)`,
  );
  const d = denylist();
  await d.start();
  const longAgoMs = Date.now() - 2 * 86_400_000;
  assert.equal(d.isRevoked(claims(41, Date.now() - 120_000)), true);
  assert.equal(d.isRevoked(claims(42, longAgoMs)), false, 'every token it covered has expired anyway');
});
