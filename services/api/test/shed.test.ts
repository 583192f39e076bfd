// The tarpit (plugins/app/overload.ts): a request shed at the door gets its 503 after SHED_DELAY_MS,
// holding only a timer, at most SHED_MAX_HELD at once, and the drain answers held ones at once.
// DB_QUEUE_LIMIT=0 makes every non-health request overloaded, so no load is needed.
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, before, test } from 'node:test';
import { waitFor, type TestDatabase } from '@mokakbab/testkit';
import type { FastifyInstance } from 'fastify';
import { build, seededDatabase } from './helper.js';

// Long, so a held request is still held while the test looks; below the 1 s Retry-After.
const DELAY_MS = 900;

let db: TestDatabase;
before(async () => {
  db = await seededDatabase({ members: 2, articles: 2, participations: 2 });
});
after(async () => {
  await db?.close();
});

const shedEnv = (env: Record<string, string>) => ({ DB_QUEUE_LIMIT: '0', ...env });

async function metric(admin: FastifyInstance, line: RegExp): Promise<number> {
  const text = (await admin.inject({ url: '/metrics' })).body;
  const m = line.exec(text);
  assert.ok(m, `metric ${String(line)} present`);
  return Number(m[1]);
}
const held = (admin: FastifyInstance) => metric(admin, /^http_requests_held (\d+)/m);
const isHeld = (admin: FastifyInstance) =>
  waitFor('a shed request is held', async () => ((await held(admin)) > 0 ? true : undefined), 15_000, 5);
const shedCount = (admin: FastifyInstance) =>
  metric(admin, /^http_requests_rejected_total\{reason="overload"\} (\d+)/m);

test('a shed request is held (counted, in the gauge) and answered 503 OVERLOADED with Retry-After after the delay', async (t) => {
  const { app, admin } = await build(t, db, { env: shedEnv({ SHED_DELAY_MS: String(DELAY_MS) }) });
  const startedAt = performance.now();
  const response = app.inject({ url: '/articles/1' }).then((r) => ({ r, ms: performance.now() - startedAt }));
  // The hook runs once the inject is dispatched; the gauge then shows it while its timer runs.
  await isHeld(admin);
  assert.equal(await shedCount(admin), 1);
  const { r, ms } = await response;
  assert.equal(r.statusCode, 503);
  assert.equal(r.json<{ code: string }>().code, 'OVERLOADED');
  assert.equal(r.headers['retry-after'], '1');
  // A lower bound only (timers never fire early; 5 ms for the clocks' rounding).
  assert.ok(ms >= DELAY_MS - 5, `answered after ${Math.round(ms)} ms, the delay is ${DELAY_MS} ms`);
  assert.equal(await held(admin), 0);
  // Liveness and readiness are never shed, so never held.
  assert.equal((await app.inject({ url: '/health/live' })).statusCode, 200);
});

test('beyond SHED_MAX_HELD a shed request is answered at once', async (t) => {
  const { app, admin } = await build(t, db, { env: shedEnv({ SHED_DELAY_MS: String(DELAY_MS), SHED_MAX_HELD: '1' }) });
  const order: string[] = [];
  const first = app.inject({ url: '/articles/1' }).then((r) => (order.push('held'), r));
  await isHeld(admin);
  const second = await app.inject({ url: '/articles/2' });
  order.push('over the cap');
  assert.equal(second.statusCode, 503);
  assert.equal(second.headers['retry-after'], '1');
  assert.equal(await held(admin), 1, 'the cap of 1 held');
  assert.equal((await first).statusCode, 503);
  assert.deepEqual(order, ['over the cap', 'held']);
  assert.equal(await shedCount(admin), 2);
});

test('SHED_DELAY_MS=0 answers a shed request at once and holds none', async (t) => {
  const { app, admin } = await build(t, db, { env: shedEnv({ SHED_DELAY_MS: '0' }) });
  const r = await app.inject({ url: '/articles/1' });
  assert.equal(r.statusCode, 503);
  assert.equal(r.json<{ code: string }>().code, 'OVERLOADED');
  assert.equal(r.headers['retry-after'], '1');
  assert.equal(await held(admin), 0);
  assert.equal(await shedCount(admin), 1);
});

test('closing answers held requests at once, as 503 SHUTTING_DOWN', async (t) => {
  const { app, admin } = await build(t, db, { env: shedEnv({ SHED_DELAY_MS: String(DELAY_MS) }) });
  const response = app.inject({ url: '/articles/1' });
  await isHeld(admin);
  await app.close();
  // Their own timer would have answered OVERLOADED: SHUTTING_DOWN comes only from the drain.
  const r = await response;
  assert.equal(r.statusCode, 503);
  assert.equal(r.json<{ code: string }>().code, 'SHUTTING_DOWN');
  assert.equal(r.headers.connection, 'close');
});
