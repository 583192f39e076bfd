// The original service's header forms of sign-in, refresh and sign-out.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { seededMember } from '@mokakbab/db';
import { type TestDatabase } from '@mokakbab/testkit';
import { bearer, build, closeAll, errorBody, seededDatabase, signIn, type TestApi, type Tokens } from './helper.js';

let db: TestDatabase;
let api: TestApi;

before(async () => {
  db = await seededDatabase({ members: 5, articles: 0, participations: 0 });
  api = await build(undefined, db);
});

after(() => closeAll(api, db));

const basic = (email: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${email}:${password}`).toString('base64')}`,
});

test('sign-in accepts Authorization: Basic base64(email:password)', async () => {
  const { email, password } = seededMember(1);
  const res = await api.app.inject({ method: 'POST', url: '/auth/sign-in', headers: basic(email, password) });
  assert.equal(res.statusCode, 200, res.body);
  const tokens = res.json<Tokens>();
  assert.equal(
    (await api.app.inject({ method: 'GET', url: '/members/1', headers: bearer(tokens.accessToken) })).statusCode,
    200,
  );

  const wrong = await api.app.inject({ method: 'POST', url: '/auth/sign-in', headers: basic(email, 'not-it') });
  assert.equal(wrong.statusCode, 401);
  for (const authorization of ['Basic !!!', 'Basic ' + Buffer.from('no-colon').toString('base64'), 'Digest abc']) {
    const res = await api.app.inject({ method: 'POST', url: '/auth/sign-in', headers: { authorization } });
    assert.equal(res.statusCode, 401, authorization);
    assert.equal(errorBody(res).code, 'UNAUTHORIZED');
  }
});

test('the refresh accepts the refresh token as a Bearer header', async () => {
  const tokens = await signIn(api.app, 2);
  const res = await api.app.inject({ method: 'POST', url: '/auth/access-token', headers: bearer(tokens.refreshToken) });
  assert.equal(res.statusCode, 200, res.body);
  assert.notEqual(res.json<Tokens>().refreshToken, tokens.refreshToken);
  const reused = await api.app.inject({
    method: 'POST',
    url: '/auth/access-token',
    headers: bearer(tokens.refreshToken),
  });
  assert.equal(reused.statusCode, 401);
  assert.equal((await api.app.inject({ method: 'POST', url: '/auth/access-token' })).statusCode, 400);
});

test("sign-out without a body ends the access token's session: its refresh token stops working too", async () => {
  const tokens = await signIn(api.app, 3);
  const other = await signIn(api.app, 3);
  const out = await api.app.inject({ method: 'POST', url: '/auth/sign-out', headers: bearer(tokens.accessToken) });
  assert.equal(out.statusCode, 204);
  assert.equal(
    (await api.app.inject({ method: 'GET', url: '/members/3', headers: bearer(tokens.accessToken) })).statusCode,
    401,
  );
  const refresh = await api.app.inject({
    method: 'POST',
    url: '/auth/access-token',
    payload: { refreshToken: tokens.refreshToken },
  });
  assert.equal(refresh.statusCode, 401);
  // The member's other session is untouched.
  const otherRefresh = await api.app.inject({
    method: 'POST',
    url: '/auth/access-token',
    payload: { refreshToken: other.refreshToken },
  });
  assert.equal(otherRefresh.statusCode, 200);
});

test('after a refresh, sign-out without a body ends the rotated session', async () => {
  const tokens = await signIn(api.app, 4);
  const rotated = (
    await api.app.inject({ method: 'POST', url: '/auth/access-token', payload: { refreshToken: tokens.refreshToken } })
  ).json<Tokens>();
  const out = await api.app.inject({ method: 'POST', url: '/auth/sign-out', headers: bearer(rotated.accessToken) });
  assert.equal(out.statusCode, 204);
  const refresh = await api.app.inject({
    method: 'POST',
    url: '/auth/access-token',
    payload: { refreshToken: rotated.refreshToken },
  });
  assert.equal(refresh.statusCode, 401);
});
