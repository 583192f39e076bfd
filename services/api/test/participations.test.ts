import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestDatabase } from '@mokakbab/testkit';
import type { LightMyRequestResponse } from 'fastify';
import { bearer, build, errorBody, seededDatabase, signIn, type TestApi, closeAll } from './helper.js';

let db: TestDatabase;
let api: TestApi;
let token1: string;
let token2: string;

before(async () => {
  db = await seededDatabase({ members: 30, articles: 5, participations: 100 });
  api = await build(undefined, db);
  token1 = (await signIn(api.app, 1)).accessToken;
  token2 = (await signIn(api.app, 2)).accessToken;
});

after(() => closeAll(api, db));

interface Participant {
  id: number;
  status: string;
  createdAt: string;
  member: { id: number; nickname: string; profileImage: string | null };
}

/** A new article with no participants, written by member 3. */
async function emptyArticle(): Promise<number> {
  const result = await db.query<{ insertId: number }>(
    `INSERT INTO article (member_id, category_id, region_id, district_id, title, content, start_time, end_time)
     SELECT 3, (SELECT MIN(id) FROM category), d.region_id, d.id, 'Empty', 'No one yet', NOW(), NOW() FROM district d LIMIT 1`,
  );
  return result.insertId;
}

describe('GET /participations/articles/:articleId', () => {
  test('lists ACTIVE participations newest first, paged by cursor', async () => {
    const expected = await db.query<{ id: number }[]>(
      "SELECT id FROM participation WHERE article_id = 1 AND status = 'ACTIVE' ORDER BY id DESC",
    );
    assert.ok(expected.length > 5, 'the seed gives article 1 several participants');
    const seen: Participant[] = [];
    let cursor: number | null = null;
    do {
      const res: LightMyRequestResponse = await api.app.inject({
        method: 'GET',
        url: `/participations/articles/1?limit=5${cursor ? `&cursor=${cursor}` : ''}`,
        headers: bearer(token1),
      });
      assert.equal(res.statusCode, 200);
      const page = res.json<{ items: Participant[]; nextCursor: number | null }>();
      assert.ok(page.items.length <= 5);
      seen.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== null);
    assert.deepEqual(
      seen.map((p) => p.id),
      expected.map((r) => r.id),
    );
    assert.ok(seen.every((p) => p.status === 'ACTIVE' && p.member.nickname.startsWith('eater')));
  });

  test('an article without participants gives an empty page; an unknown article is 404', async () => {
    const id = await emptyArticle();
    const empty = await api.app.inject({
      method: 'GET',
      url: `/participations/articles/${id}`,
      headers: bearer(token1),
    });
    assert.equal(empty.statusCode, 200);
    assert.deepEqual(empty.json(), { items: [], nextCursor: null });
    const missing = await api.app.inject({
      method: 'GET',
      url: '/participations/articles/99999',
      headers: bearer(token1),
    });
    assert.equal(missing.statusCode, 404);
    assert.equal(errorBody(missing).code, 'ARTICLE_NOT_FOUND');
  });

  test('needs a token; bad ids and limits are 400', async () => {
    const noToken = await api.app.inject({ method: 'GET', url: '/participations/articles/1' });
    assert.equal(noToken.statusCode, 401);
    for (const url of [
      '/participations/articles/0',
      '/participations/articles/x',
      '/participations/articles/1?limit=500',
    ]) {
      const res = await api.app.inject({ method: 'GET', url, headers: bearer(token1) });
      assert.equal(res.statusCode, 400, url);
    }
  });
});

describe('POST /participations and DELETE /participations/:id', () => {
  test('join (201), second join 409, cancel by another member 403, cancel by owner 200, join again 201', async () => {
    const articleId = await emptyArticle();
    const join = await api.app.inject({
      method: 'POST',
      url: '/participations',
      headers: bearer(token1),
      payload: { articleId },
    });
    assert.equal(join.statusCode, 201);
    const joined = join.json<{ id: number; articleId: number; memberId: number; status: string }>();
    assert.deepEqual(joined, { id: joined.id, articleId, memberId: 1, status: 'ACTIVE' });

    const again = await api.app.inject({
      method: 'POST',
      url: '/participations',
      headers: bearer(token1),
      payload: { articleId },
    });
    assert.equal(again.statusCode, 409);
    assert.equal(errorBody(again).code, 'ALREADY_JOINED');

    const byOther = await api.app.inject({
      method: 'DELETE',
      url: `/participations/${joined.id}`,
      headers: bearer(token2),
    });
    assert.equal(byOther.statusCode, 403);
    assert.equal(errorBody(byOther).code, 'NOT_OWNER');

    const cancel = await api.app.inject({
      method: 'DELETE',
      url: `/participations/${joined.id}`,
      headers: bearer(token1),
    });
    assert.equal(cancel.statusCode, 200);
    assert.deepEqual(cancel.json(), { ...joined, status: 'CANCELLED' });
    const list = await api.app.inject({
      method: 'GET',
      url: `/participations/articles/${articleId}`,
      headers: bearer(token1),
    });
    assert.deepEqual(list.json().items, []);

    const rejoin = await api.app.inject({
      method: 'POST',
      url: '/participations',
      headers: bearer(token1),
      payload: { articleId },
    });
    assert.equal(rejoin.statusCode, 201);
    assert.equal(rejoin.json().id, joined.id);
  });

  test('joining an unknown article is 404; a wrong body is 400; no token is 401', async () => {
    const unknown = await api.app.inject({
      method: 'POST',
      url: '/participations',
      headers: bearer(token1),
      payload: { articleId: 99_999 },
    });
    assert.equal(unknown.statusCode, 404);
    assert.equal(errorBody(unknown).code, 'ARTICLE_NOT_FOUND');
    for (const payload of [{}, { articleId: 'abc' }, { articleId: -1 }, { articleId: 4_294_967_296 }]) {
      const res = await api.app.inject({ method: 'POST', url: '/participations', headers: bearer(token1), payload });
      assert.equal(res.statusCode, 400, JSON.stringify(payload));
      assert.match(errorBody(res).message, /^body/);
    }
    const noToken = await api.app.inject({ method: 'POST', url: '/participations', payload: { articleId: 1 } });
    assert.equal(noToken.statusCode, 401);
  });

  test('cancelling an unknown participation is 404', async () => {
    const res = await api.app.inject({ method: 'DELETE', url: '/participations/99999', headers: bearer(token1) });
    assert.equal(res.statusCode, 404);
    assert.equal(errorBody(res).code, 'PARTICIPATION_NOT_FOUND');
  });
});
