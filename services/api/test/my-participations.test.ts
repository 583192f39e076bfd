import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { TestDatabase } from '@mokakbab/testkit';
import { bearer, build, closeAll, errorBody, seededDatabase, type TestApi } from './helper.js';
import { accessTokenFor } from './helper-tokens.js';

let db: TestDatabase;
let api: TestApi;

before(async () => {
  db = await seededDatabase({ members: 3, articles: 30, participations: 90 });
  api = await build(undefined, db);
});

after(() => closeAll(api, db));

const auth = (memberId: number) => bearer(accessTokenFor(api.app, memberId));

interface Page {
  items: { id: number; memberId: number; status: string; article: { id: number; title: string } }[];
  nextCursor: number | null;
}

test("GET /participations pages the caller's ACTIVE participations, newest first", async () => {
  const expected = await db.query<{ id: number }[]>(
    "SELECT id FROM participation WHERE member_id = 2 AND status = 'ACTIVE' ORDER BY id DESC",
  );
  assert.ok(expected.length > 12, `seed gave member 2 ${expected.length} participations`);
  const seen: number[] = [];
  let cursor: number | null = null;
  do {
    const url: string = `/participations?limit=5${cursor === null ? '' : `&cursor=${cursor}`}`;
    const res = await api.app.inject({ method: 'GET', url, headers: auth(2) });
    assert.equal(res.statusCode, 200);
    const page = res.json<Page>();
    assert.ok(page.items.every((p) => p.memberId === 2 && p.status === 'ACTIVE' && p.article.id > 0));
    seen.push(...page.items.map((p) => p.id));
    cursor = page.nextCursor;
  } while (cursor !== null);
  assert.deepEqual(
    seen,
    expected.map((r) => r.id),
  );
});

test('GET /participations/:id answers the owner, 404 for anyone else and for unknown ids', async () => {
  const [own] = await db.query<{ id: number; article_id: number }[]>(
    'SELECT id, article_id FROM participation WHERE member_id = 2 ORDER BY id LIMIT 1',
  );
  const res = await api.app.inject({ method: 'GET', url: `/participations/${own!.id}`, headers: auth(2) });
  assert.equal(res.statusCode, 200);
  assert.equal(res.json().articleId, own!.article_id);
  const other = await api.app.inject({ method: 'GET', url: `/participations/${own!.id}`, headers: auth(1) });
  assert.equal(other.statusCode, 404);
  assert.equal(errorBody(other).code, 'PARTICIPATION_NOT_FOUND');
  assert.equal(
    (await api.app.inject({ method: 'GET', url: '/participations/99999', headers: auth(2) })).statusCode,
    404,
  );
  assert.equal((await api.app.inject({ method: 'GET', url: '/participations' })).statusCode, 401);
});
