// One deadline per request over all its database work (issue 8): each acquire and statement uses
// the smaller of its own limit and the time the request has left, and nothing starts once it is
// gone (503 DEADLINE_EXCEEDED with Retry-After). The pool on a real server, and a real route whose
// operations each stay within their own limits while together they would outlive the request.
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTestDatabase, type TestDatabase } from '@mokakbab/testkit';
import { DeadlineExceededError, operationDeadline } from '../src/db/index.js';
import { bearer, build, closeAll, seededDatabase, signIn, type TestApi } from './helper.js';
import { makePool } from './pool-helper.js';

describe('the pool under a request deadline', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
  });
  after(() => db.close());

  test('with no time left an operation does not start: no connection is taken, no statement is sent', async (t) => {
    const pool = makePool(db.url, { size: 1 });
    t.after(() => pool.close());
    await pool.warm();
    const passed = performance.now() - 1;
    for (const op of [
      () => pool.query('SELECT 1'),
      () => pool.read('SELECT 1'),
      () => pool.transaction((tx) => tx.query('SELECT 1')),
    ]) {
      await assert.rejects(
        operationDeadline.run(passed, op),
        (err: unknown) => err instanceof DeadlineExceededError && err.code === 'DEADLINE_EXCEEDED',
      );
    }
    assert.equal(pool.statementsInFlight, 0);
    assert.equal(pool.stats().idle, 1, 'the connection stayed idle');
  });

  test('a statement gets what the request has left, not its own longer limit', async (t) => {
    // No session limit: only the client timer, set to the time left, can stop it.
    const pool = makePool(db.url, { size: 1, queryTimeoutMs: 5_000 });
    t.after(() => pool.close());
    await pool.warm();
    const startedAt = performance.now();
    await assert.rejects(
      operationDeadline.run(startedAt + 300, () => pool.query('SELECT SLEEP(3)')),
      { name: 'DeadlineExceededError', code: 'DEADLINE_EXCEEDED' },
    );
    const elapsedMs = performance.now() - startedAt;
    assert.ok(elapsedMs < 1_500, `gave up after ${Math.round(elapsedMs)} ms (own limit 5000 ms)`);
  });

  test('a transaction sends no statement past the deadline, rolls back and keeps its connection', async (t) => {
    const pool = makePool(db.url, { size: 1 });
    t.after(() => pool.close());
    await pool.warm();
    let statementsSent = 0;
    await assert.rejects(
      operationDeadline.run(performance.now() + 200, () =>
        pool.transaction(async (tx) => {
          await tx.query('SELECT 1');
          statementsSent++;
          await sleep(300);
          await tx.query('SELECT 2');
          statementsSent++;
        }),
      ),
      { code: 'DEADLINE_EXCEEDED' },
    );
    assert.equal(statementsSent, 1);
    assert.equal(pool.stats().replaced, 0, 'rolled back, not dropped');
    assert.deepEqual(await pool.query('SELECT 1 AS ok'), [{ ok: 1 }]);
  });
});

describe('a route whose operations together outlive the request', () => {
  const REQUEST_TIMEOUT_MS = 3_000;
  // acquire + query = the request timeout, the largest the configuration allows.
  const ACQUIRE_TIMEOUT_MS = 2_400;
  const QUERY_TIMEOUT_MS = 600;
  // Below half the acquire timeout: the queue stays FIFO (see LIFO_AFTER_SHARE in pool.ts).
  const FIRST_HOLD_MS = 1_000;
  // Ends after the request deadline, well within the waiting operation's own acquire timeout.
  const SECOND_HOLD_MS = 2_200;
  // Timers on a loaded machine fire late. Without the deadline the answer is a 204 after both holds.
  const SLACK_MS = 300;
  let db: TestDatabase;
  let api: TestApi;
  let url: string;
  before(async () => {
    db = await seededDatabase({ members: 2, articles: 1, participations: 0 });
    api = await build(undefined, db, {
      env: {
        DB_POOL_SIZE: '1',
        REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
        DB_ACQUIRE_TIMEOUT_MS: String(ACQUIRE_TIMEOUT_MS),
        DB_QUERY_TIMEOUT_MS: String(QUERY_TIMEOUT_MS),
      },
    });
    url = await api.app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(() => closeAll(api, db));

  test('sign-out behind two busy spells: 503 DEADLINE_EXCEEDED at the deadline, the later operations never start', async () => {
    const tokens = await signIn(api.app, 1);
    const live = async () =>
      Number((await db.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM refresh_token WHERE member_id = 1'))[0]!.n);
    assert.equal(await live(), 1);
    // Another user of the only connection holds it twice: once while the sign-out's first write
    // waits, once queued behind that write, so the sign-out's next operation waits past the deadline.
    let second: Promise<void> | undefined;
    const first = api.app.db.transaction(async () => {
      await sleep(FIRST_HOLD_MS);
      second = api.app.db.transaction(() => sleep(SECOND_HOLD_MS));
    });
    const startedAt = performance.now();
    // A real socket: the body arrives in the socket's async context, as in production.
    const res = await fetch(`${url}/auth/sign-out`, {
      method: 'POST',
      headers: { ...bearer(tokens.accessToken), 'content-type': 'application/json' },
      body: JSON.stringify({ refreshToken: tokens.refreshToken }),
    });
    const body = (await res.json()) as { code?: string };
    const elapsedMs = performance.now() - startedAt;
    await first;
    await second;
    console.log(
      `[measure] request deadline: sign-out answered ${res.status} after ${Math.round(elapsedMs)} ms ` +
        `(REQUEST_TIMEOUT_MS ${REQUEST_TIMEOUT_MS}; without the deadline its operations would end after ${FIRST_HOLD_MS + SECOND_HOLD_MS} ms)`,
    );
    assert.equal(res.status, 503, JSON.stringify(body));
    assert.equal(body.code, 'DEADLINE_EXCEEDED');
    assert.equal(res.headers.get('retry-after'), '1');
    assert.ok(elapsedMs < REQUEST_TIMEOUT_MS + SLACK_MS, `answered after ${Math.round(elapsedMs)} ms`);
    assert.equal(await live(), 1, 'the refresh token was never deleted: that operation did not start');
  });
});
