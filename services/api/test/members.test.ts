import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { TestDatabase } from '@mokakbab/testkit';
import { bearer, build, errorBody, seededDatabase, signIn, type TestApi, closeAll } from './helper.js';

let db: TestDatabase;
let api: TestApi;
let token: string;

before(async () => {
  db = await seededDatabase({ members: 5, articles: 0, participations: 0 });
  api = await build(undefined, db);
  token = (await signIn(api.app, 1)).accessToken;
});

after(() => closeAll(api, db));

test('GET /members/:id returns the public profile', async () => {
  const res = await api.app.inject({ method: 'GET', url: '/members/2', headers: bearer(token) });
  assert.equal(res.statusCode, 200);
  const body = res.json();
  assert.deepEqual(Object.keys(body).sort(), ['createdAt', 'id', 'name', 'nickname', 'profileImage']);
  assert.equal(body.id, 2);
  assert.equal(body.nickname, 'eater2');
  assert.equal(body.profileImage, null);
  assert.ok(!Number.isNaN(Date.parse(body.createdAt)));
});

test('an unknown member is 404', async () => {
  const res = await api.app.inject({ method: 'GET', url: '/members/999', headers: bearer(token) });
  assert.equal(res.statusCode, 404);
  assert.equal(errorBody(res).code, 'MEMBER_NOT_FOUND');
});

test('ids that are not positive INT UNSIGNED values are 400, never 500', async () => {
  for (const id of ['0', '-1', 'abc', '1.5', '4294967296', '99999999999999999999']) {
    const res = await api.app.inject({ method: 'GET', url: `/members/${id}`, headers: bearer(token) });
    assert.equal(res.statusCode, 400, id);
    assert.match(errorBody(res).message, /^params\/id/);
  }
});

test('without a token it is 401', async () => {
  const res = await api.app.inject({ method: 'GET', url: '/members/2' });
  assert.equal(res.statusCode, 401);
});

test('an unknown route is 404 in the same error shape', async () => {
  const res = await api.app.inject({ method: 'GET', url: '/nowhere' });
  assert.equal(res.statusCode, 404);
  assert.equal(errorBody(res).code, 'NOT_FOUND');
});

test('/docs serves the UI and /docs/json the OpenAPI document of every route', async () => {
  const ui = await api.app.inject({ method: 'GET', url: '/docs/' });
  assert.equal(ui.statusCode, 200);
  const doc = await api.app.inject({ method: 'GET', url: '/docs/json' });
  assert.equal(doc.statusCode, 200);
  const paths = Object.keys(doc.json().paths);
  for (const path of [
    '/auth/sign-up',
    '/auth/sign-in',
    '/auth/access-token',
    '/auth/sign-out',
    '/members/{id}',
    '/articles/',
    '/articles/{id}',
    '/participations/articles/{articleId}',
    '/participations/',
    '/participations/{id}',
    '/health/ready',
  ]) {
    assert.ok(paths.includes(path), `${path} in ${paths.join(', ')}`);
  }
});
