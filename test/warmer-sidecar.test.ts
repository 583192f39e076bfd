// Sidecar mode against a real API process: /ready follows the API's pool from outside, and an API
// that is killed and restarted on the same ports is re-warmed.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestDatabase, type TestDatabase, getJson, waitFor } from '@mokakbab/testkit';
import { restartApi, startApi, startWarmer, type ApiProcess, type WarmerProcess } from './helpers/processes.js';
import { holdSlots, uniqueSlotPrefix } from './helpers/slots.js';

let db: TestDatabase;
let api: ApiProcess;
let warmer: WarmerProcess;
const prefix = uniqueSlotPrefix();

before(async () => {
  db = await createTestDatabase();
  api = await startApi({ databaseUrl: db.url });
});
after(async () => {
  await warmer?.stop();
  await api?.stop();
  await db?.close();
});

const poolOf = async (a: ApiProcess) =>
  (await getJson<{ target: number; total: number; warm: boolean }>(`${a.adminUrl}/pool`)).body;
const isReady = async (w: WarmerProcess) => (await w.ready()).status === 200;

test('/ready is 503 while the API pool is cold and 200 once GET /pool reports it full', async () => {
  // Holding the only slot keeps the warmer in waiting-for-slot, so the cold state is observable.
  const release = await holdSlots(db, prefix, 1);
  after(release); // on failure too: a held slot would block the next test
  warmer = await startWarmer({
    DATABASE_URL: db.url.href,
    WARMER_TARGET: api.adminUrl,
    WARMER_TARGET_PUBLIC: api.url,
    WARM_SLOTS: '1',
    WARM_SLOT_PREFIX: prefix,
  });
  const waiting = await waitFor('the warmer waiting for a slot', async () => {
    const [t] = (await warmer.status()).targets;
    return t?.phase === 'waiting-for-slot' && t.lastError ? t : undefined;
  });
  assert.match(waiting.lastError ?? '', /all 1 warm slots are taken/);
  const cold = await warmer.ready();
  assert.equal(cold.status, 503);
  assert.deepEqual(cold.body.reasons, [{ id: waiting.id, phase: 'waiting-for-slot', lastError: waiting.lastError }]);
  assert.equal((await poolOf(api)).warm, false);
  assert.equal((await getJson(`${api.url}/health/ready`)).status, 503);

  const releasedAt = Date.now();
  await release();
  await waitFor('the warmer ready', async () => ((await isReady(warmer)) ? true : undefined));
  console.log(`[measure] time to ready, 1 API (from slot free to warmer ready): ${Date.now() - releasedAt} ms`);

  const pool = await poolOf(api);
  assert.equal(pool.warm, true);
  assert.equal(pool.total, pool.target);
  assert.equal((await getJson(`${api.url}/health/ready`)).status, 200);
  const [t] = (await warmer.status()).targets;
  assert.equal(t?.phase, 'ready');
  assert.equal(t?.lastError, null);
  assert.equal(t?.slot, null, 'the slot is released after the warm-up');
  assert.ok(t?.timings.warmStartedAt && t.timings.warmEndedAt && t.timings.readyAt);
  assert.ok((t?.timings.slotWaitMs ?? 0) > 0);
  assert.equal(t?.pool?.total, pool.target);
  assert.deepEqual((await warmer.ready()).body, { ready: true, targets: 1 });
  await waitFor('the slot connection closed', async () => ((await warmer.status()).slots.connected ? undefined : true));
});

test('an API killed and restarted on the same ports: not ready, re-warmed, ready again', async () => {
  const before = (await warmer.status()).targets[0]!;
  const logsBefore = warmer.logs.length;
  api = await restartApi(api);
  const restartedAt = Date.now();
  // The warmer may see the restart and re-warm before a first poll could catch its 503: wait for
  // evidence of a new cycle instead, then for ready.
  const renewed = await waitFor('a new warm-up cycle', async () => {
    const [t] = (await warmer.status()).targets;
    return t && t.attempts > before.attempts && t.timings.warmStartedAt !== before.timings.warmStartedAt
      ? t
      : undefined;
  });
  assert.notEqual(renewed.timings.warmStartedAt, null);
  const notReady = warmer.logs.slice(logsBefore).find((l) => l.msg === 'target not ready');
  assert.ok(notReady, 'the warmer logged the target as not ready');
  await waitFor('the warmer ready again', async () => ((await isReady(warmer)) ? true : undefined), 30_000).catch(
    async (err: Error) => {
      throw new Error(
        `${err.message}\n${JSON.stringify(await warmer.status())}\n${warmer.logs
          .slice(-5)
          .map((l) => JSON.stringify(l))
          .join('\n')}`,
      );
    },
  );
  console.log(`[measure] time to ready after an API restart (from its listening line): ${Date.now() - restartedAt} ms`);
  const pool = await poolOf(api);
  assert.equal(pool.warm, true);
  assert.equal(pool.total, pool.target);
  assert.equal((await getJson(`${api.url}/health/ready`)).status, 200);
  const after = (await warmer.status()).targets[0]!;
  assert.ok(after.attempts > before.attempts);
  assert.ok(Date.parse(after.timings.warmStartedAt!) > Date.parse(before.timings.warmEndedAt!));
});

test('SIGTERM stops the warmer with exit code 0', async () => {
  assert.equal(await warmer.stop('SIGTERM'), 0);
});
