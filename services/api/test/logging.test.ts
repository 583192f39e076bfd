import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { TestDatabase } from '@mokakbab/testkit';
import { TEST_JWT_SECRET, bearer, build, seededDatabase, signIn, type TestApi, closeAll } from './helper.js';

let db: TestDatabase;
let api: TestApi;
const lines: string[] = [];

before(async () => {
  db = await seededDatabase({ members: 3, articles: 1, participations: 1 });
  // trace: the most verbose level, so every line the app can write at all is captured.
  api = await build(undefined, db, { env: { LOG_LEVEL: 'trace' }, logLines: lines });
});

after(() => closeAll(api, db));

test('no Authorization header, token, password or secret reaches the logs', async () => {
  const tokens = await signIn(api.app, 1);
  const wrong = await api.app.inject({
    method: 'POST',
    url: '/auth/sign-in',
    payload: { email: 'member1@example.com', password: 'hunter2-wrong' },
  });
  assert.equal(wrong.statusCode, 401);
  const me = await api.app.inject({ method: 'GET', url: '/members/1', headers: bearer(tokens.accessToken) });
  assert.equal(me.statusCode, 200);
  const refreshed = await api.app.inject({
    method: 'POST',
    url: '/auth/access-token',
    payload: { refreshToken: tokens.refreshToken },
  });
  assert.equal(refreshed.statusCode, 200);
  const forged = await api.app.inject({ method: 'GET', url: '/members/1', headers: bearer(`${tokens.accessToken}x`) });
  assert.equal(forged.statusCode, 401);

  // Code that logs a request or a credentials object by mistake is redacted too.
  api.app.log.info({ req: { headers: { authorization: `Bearer ${tokens.accessToken}`, cookie: 'sid=s3cr3t' } } });
  api.app.log.info({
    body: { password: 'password1', refreshToken: tokens.refreshToken, accessToken: tokens.accessToken },
  });

  const text = lines.join('');
  assert.ok(
    lines.some((l) => JSON.parse(l).msg === 'request completed'),
    'request lines are captured at trace',
  );
  for (const secret of [
    tokens.accessToken,
    tokens.accessToken.split('.')[2]!,
    tokens.refreshToken,
    refreshed.json().accessToken,
    refreshed.json().refreshToken,
    'password1',
    'hunter2-wrong',
    's3cr3t',
    TEST_JWT_SECRET,
  ]) {
    assert.ok(!text.includes(secret), `the logs contain ${secret.slice(0, 12)}...`);
  }
  assert.doesNotMatch(text, /Bearer /);
  assert.match(text, /\[redacted\]/);
});

test('an unmapped database error is logged without its SQL, which carries the values (a password hash)', async () => {
  // A CHECK the API does not know about turns this one sign-up into an unmapped error (500).
  await db.query("ALTER TABLE member ADD CONSTRAINT ck_logging_test CHECK (nickname <> 'sql-leak')");
  try {
    const res = await api.app.inject({
      method: 'POST',
      url: '/auth/sign-up',
      payload: { email: 'leak@example.com', password: 'leak-password-1', name: 'Leak', nickname: 'sql-leak' },
    });
    assert.equal(res.statusCode, 500);
  } finally {
    await db.query('ALTER TABLE member DROP CONSTRAINT ck_logging_test');
  }
  const logged = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'unhandled error');
  assert.ok(logged, 'the error was logged');
  assert.equal(logged.err.sql, '[redacted]');
  const text = lines.join('');
  assert.ok(!text.includes('scrypt$'), 'no password hash in the logs');
  assert.ok(!text.includes('leak-password-1'));
});
