// When the database goes away, requests get 503 with Retry-After (never 500), liveness stays up,
// and readiness stays latched (one database blip must not pull every replica at once).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestDatabase, type TestDatabase } from '@mokakbab/testkit';
import { build, errorBody, type TestApi, closeAll } from './helper.js';

let db: TestDatabase;
let api: TestApi;

before(async () => {
  // A dedicated server, so stopping it does not disturb other test files.
  db = await createTestDatabase({ serverOptions: { max_connections: 20 } });
  await db.seed({ members: 2, articles: 2, participations: 2 });
  api = await build(undefined, db, {
    env: { DB_POOL_SIZE: '2', DB_CONNECT_TIMEOUT_MS: '200', DB_ACQUIRE_TIMEOUT_MS: '500' },
  });
});

after(() => closeAll(api, db));

test('requests get 503 with Retry-After while the server is down', async () => {
  const up = await api.app.inject({ method: 'GET', url: '/articles' });
  assert.equal(up.statusCode, 200);
  await db.server!.stop();

  for (const request of [
    { method: 'GET' as const, url: '/articles' },
    { method: 'GET' as const, url: '/articles/1' },
    { method: 'POST' as const, url: '/auth/sign-in', payload: { email: 'member1@example.com', password: 'password1' } },
  ]) {
    const res = await api.app.inject(request);
    assert.equal(res.statusCode, 503, `${request.url}: ${res.body}`);
    assert.ok(Number(res.headers['retry-after']) >= 1);
    assert.equal(errorBody(res).statusCode, 503);
  }
  assert.equal((await api.app.inject({ method: 'GET', url: '/health/live' })).statusCode, 200);
  assert.equal((await api.app.inject({ method: 'GET', url: '/health/ready' })).statusCode, 200);
});
