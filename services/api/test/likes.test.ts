import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { TestDatabase } from '@mokakbab/testkit';
import { bearer, build, closeAll, errorBody, seededDatabase, type TestApi } from './helper.js';
import { accessTokenFor } from './helper-tokens.js';

const MEMBERS = 200;

let db: TestDatabase;
let api: TestApi;

before(async () => {
  db = await seededDatabase({ members: MEMBERS, articles: 3, participations: 0 });
  // 200 transactions queue for 4 connections: give each a generous wait (the point is the count).
  api = await build(undefined, db, { env: { DB_ACQUIRE_TIMEOUT_MS: '8000', REQUEST_TIMEOUT_MS: '12000' } });
});

after(() => closeAll(api, db));

async function counts(articleId: number) {
  const [row] = await db.query<{ like_count: number; rows: number }[]>(
    'SELECT like_count, (SELECT COUNT(*) FROM article_like WHERE article_id = a.id) AS `rows` FROM article a WHERE id = ?',
    [articleId],
  );
  return { likeCount: row!.like_count, rows: Number(row!.rows) };
}

const toggle = (articleId: number, memberId: number) =>
  api.app.inject({
    method: 'PUT',
    url: `/articles/${articleId}/like`,
    headers: bearer(accessTokenFor(api.app, memberId)),
  });

test('PUT /articles/:id/like likes, a second PUT unlikes, and the article shows the count', async () => {
  const first = await toggle(1, 1);
  assert.equal(first.statusCode, 200);
  assert.deepEqual(first.json(), { liked: true, likeCount: 1 });
  assert.equal((await api.app.inject({ method: 'GET', url: '/articles/1' })).json().likeCount, 1);
  const second = await toggle(1, 1);
  assert.deepEqual(second.json(), { liked: false, likeCount: 0 });
  assert.deepEqual(await counts(1), { likeCount: 0, rows: 0 });
});

test('200 concurrent toggles by distinct members: every one liked, the count equals the rows', async () => {
  const responses = await Promise.all(Array.from({ length: MEMBERS }, (_, i) => toggle(2, i + 1)));
  assert.deepEqual(
    responses.map((r) => r.statusCode),
    Array(MEMBERS).fill(200),
  );
  assert.ok(responses.every((r) => r.json().liked === true));
  // Serialized on the article row: the counts answered are exactly 1..200.
  assert.deepEqual(
    responses.map((r) => r.json().likeCount).sort((a, b) => a - b),
    Array.from({ length: MEMBERS }, (_, i) => i + 1),
  );
  assert.deepEqual(await counts(2), { likeCount: MEMBERS, rows: MEMBERS });
});

test('200 concurrent toggles by one member alternate and end where they began', async () => {
  const responses = await Promise.all(Array.from({ length: MEMBERS }, () => toggle(3, 7)));
  assert.ok(responses.every((r) => r.statusCode === 200));
  const liked = responses.filter((r) => r.json().liked === true).length;
  assert.equal(liked, MEMBERS / 2);
  assert.deepEqual(await counts(3), { likeCount: 0, rows: 0 });
});

test('liking an unknown article is 404; without a token 401; a bad id 400', async () => {
  const unknown = await toggle(999, 1);
  assert.equal(unknown.statusCode, 404);
  assert.equal(errorBody(unknown).code, 'ARTICLE_NOT_FOUND');
  assert.equal((await api.app.inject({ method: 'PUT', url: '/articles/1/like' })).statusCode, 401);
  const bad = await api.app.inject({
    method: 'PUT',
    url: '/articles/abc/like',
    headers: bearer(accessTokenFor(api.app, 1)),
  });
  assert.equal(bad.statusCode, 400);
});
