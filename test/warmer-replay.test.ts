// The warm-up replay against a real API: a good list (with sign-in) ends ready with its time in
// /status; a request that answers an unexpected status keeps the target not ready with the reason.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestDatabase, type TestDatabase, waitFor } from '@mokakbab/testkit';
import { startApi, startWarmer, type ApiProcess, type TargetStatusBody } from './helpers/processes.js';
import { uniqueSlotPrefix } from './helpers/slots.js';

let db: TestDatabase;
let api: ApiProcess;

before(async () => {
  db = await createTestDatabase();
  await db.seed({ members: 5, articles: 5, participations: 5 });
  api = await startApi({ databaseUrl: db.url });
});
after(async () => {
  await api?.stop();
  await db?.close();
});

const warmerEnv = (replay: unknown) => ({
  DATABASE_URL: db.url.href,
  WARMER_TARGET: api.adminUrl,
  WARMER_TARGET_PUBLIC: api.url,
  WARM_SLOT_PREFIX: uniqueSlotPrefix(),
  WARMER_REPLAY: JSON.stringify(replay),
  WARMER_REPLAY_DURATION_MS: '300',
  WARMER_REPLAY_CONNECTIONS: '2',
});

test('a replay whose every answer matches ends ready, with the replay time in /status', async (t) => {
  const warmer = await startWarmer(
    warmerEnv({
      signIn: { email: 'member1@example.com', password: 'password1' },
      requests: [
        { method: 'GET', path: '/articles?limit=5', expectStatus: 200 },
        { method: 'GET', path: '/articles/1', expectStatus: 200 },
        { method: 'GET', path: '/members/1', headers: { authorization: 'Bearer $TOKEN' }, expectStatus: 200 },
        {
          method: 'GET',
          path: '/participations/articles/1',
          headers: { authorization: 'Bearer $TOKEN' },
          expectStatus: 200,
        },
      ],
    }),
  );
  t.after(() => warmer.stop());
  const target = await waitFor('the warmer ready', async () => {
    const [tg] = (await warmer.status()).targets;
    return tg?.ready ? tg : undefined;
  });
  assert.equal(target.lastError, null);
  assert.ok((target.timings.replayMs ?? 0) >= 300, `replayMs ${target.timings.replayMs} covers the duration`);
  assert.equal((await warmer.ready()).status, 200);
  const metrics = await (await fetch(`${warmer.url}/metrics`)).text();
  assert.match(metrics, /warmer_replay_failures_total 0/);
  assert.match(metrics, /warmer_ready 1/);
});

test('an unexpected status keeps the target not ready, the reason in /status, retried each cycle', async (t) => {
  const warmer = await startWarmer(
    warmerEnv([
      { method: 'GET', path: '/articles', expectStatus: 200 },
      { method: 'GET', path: '/articles/999999', expectStatus: 200 },
    ]),
  );
  t.after(() => warmer.stop());
  const failing = (tg: TargetStatusBody | undefined) => tg?.lastError?.startsWith('replay:');
  const first = await waitFor('the replay failure', async () => {
    const [tg] = (await warmer.status()).targets;
    return failing(tg) ? tg : undefined;
  });
  assert.equal(first.ready, false);
  assert.match(first.lastError ?? '', /replay: GET \/articles\/999999 answered 404, expected 200/);
  const ready = await warmer.ready();
  assert.equal(ready.status, 503);
  assert.match(JSON.stringify(ready.body.reasons), /answered 404, expected 200/);

  // The pool is warm, so later cycles skip the slot and only replay again, and fail again.
  await waitFor('a retried replay', async () => {
    const metrics = await (await fetch(`${warmer.url}/metrics`)).text();
    const failures = Number(/warmer_replay_failures_total (\d+)/.exec(metrics)?.[1] ?? 0);
    return failures >= 2 ? true : undefined;
  });
  const [later] = (await warmer.status()).targets;
  assert.equal(later?.ready, false);
  assert.ok((later?.attempts ?? 0) > first.attempts);
});
