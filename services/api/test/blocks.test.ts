import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestDatabase } from '@mokakbab/testkit';
import { bearer, build, closeAll, errorBody, seededDatabase, type TestApi } from './helper.js';
import { accessTokenFor } from './helper-tokens.js';

let db: TestDatabase;
let api: TestApi;

before(async () => {
  db = await seededDatabase({ members: 8, articles: 40, participations: 120 });
  api = await build(undefined, db);
});

after(() => closeAll(api, db));

const auth = (memberId: number) => bearer(accessTokenFor(api.app, memberId));
const block = (blacker: number, blackedId: number) =>
  api.app.inject({ method: 'POST', url: '/members/blacks', headers: auth(blacker), payload: { blackedId } });

describe('the block list', () => {
  test('POST adds, GET lists (highest blocked member id first, paged), DELETE removes', async () => {
    for (const id of [3, 5, 4]) assert.equal((await block(1, id)).statusCode, 201);
    const first = await api.app.inject({ method: 'GET', url: '/members/blacks?limit=2', headers: auth(1) });
    assert.equal(first.statusCode, 200);
    const page1 = first.json();
    assert.deepEqual(
      page1.items.map((b: { blackedId: number }) => b.blackedId),
      [5, 4],
    );
    assert.equal(page1.items[0].nickname, 'eater5');
    const second = await api.app.inject({
      method: 'GET',
      url: `/members/blacks?limit=2&cursor=${page1.nextCursor}`,
      headers: auth(1),
    });
    assert.deepEqual(second.json(), { items: [{ ...second.json().items[0], blackedId: 3 }], nextCursor: null });

    assert.equal(
      (await api.app.inject({ method: 'DELETE', url: '/members/blacks/4', headers: auth(1) })).statusCode,
      204,
    );
    const again = await api.app.inject({ method: 'DELETE', url: '/members/blacks/4', headers: auth(1) });
    assert.equal(again.statusCode, 404);
    assert.equal(errorBody(again).code, 'BLOCK_NOT_FOUND');
    const rows = await db.query<{ blacked_id: number }[]>(
      'SELECT blacked_id FROM black_list WHERE blacker_id = 1 ORDER BY 1',
    );
    assert.deepEqual(
      rows.map((r) => r.blacked_id),
      [3, 5],
    );
  });

  test('blocking twice is 409, oneself 400, an unknown member 404; nothing is added', async () => {
    assert.equal((await block(2, 6)).statusCode, 201);
    const twice = await block(2, 6);
    assert.equal(twice.statusCode, 409);
    assert.equal(errorBody(twice).code, 'ALREADY_BLOCKED');
    assert.equal((await block(2, 2)).statusCode, 400);
    const unknown = await block(2, 9999);
    assert.equal(unknown.statusCode, 404);
    assert.equal(errorBody(unknown).code, 'MEMBER_NOT_FOUND');
    const [row] = await db.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM black_list WHERE blacker_id = 2');
    assert.equal(Number(row!.n), 1);
  });
});

describe('a block hides the blocked member', () => {
  async function allArticleIds(memberId: number | undefined, limit = 50): Promise<{ ids: number[]; pages: number }> {
    const ids: number[] = [];
    let cursor: number | null = null;
    let pages = 0;
    do {
      const url: string = `/articles?limit=${limit}${cursor === null ? '' : `&cursor=${cursor}`}`;
      const res = await api.app.inject({ method: 'GET', url, headers: memberId ? auth(memberId) : {} });
      assert.equal(res.statusCode, 200, res.body);
      const page = res.json<{ items: { id: number; author: { id: number } }[]; nextCursor: number | null }>();
      assert.ok(page.items.length <= limit);
      ids.push(...page.items.map((a) => a.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== null);
    return { ids, pages };
  }

  test("from the blocker's article list and participant lists, not from anyone else's", async () => {
    const [author] = await db.query<{ member_id: number }[]>(
      'SELECT member_id FROM article GROUP BY member_id ORDER BY COUNT(*) DESC, member_id LIMIT 1',
    );
    const blocked = author!.member_id;
    const viewer = blocked === 7 ? 8 : 7;
    assert.equal((await block(viewer, blocked)).statusCode, 201);

    const everyone = await db.query<{ id: number; member_id: number }[]>(
      'SELECT id, member_id FROM article ORDER BY id DESC',
    );
    const expected = everyone.filter((a) => a.member_id !== blocked).map((a) => a.id);
    assert.ok(expected.length < everyone.length);
    assert.deepEqual((await allArticleIds(viewer, 5)).ids, expected);
    assert.deepEqual(
      (await allArticleIds(undefined, 5)).ids,
      everyone.map((a) => a.id),
    );

    const [joined] = await db.query<{ article_id: number }[]>(
      "SELECT article_id FROM participation WHERE member_id = ? AND status = 'ACTIVE' LIMIT 1",
      [blocked],
    );
    const participants = async (memberId: number) =>
      (
        await api.app.inject({
          method: 'GET',
          url: `/participations/articles/${joined!.article_id}?limit=50`,
          headers: auth(memberId),
        })
      )
        .json<{ items: { member: { id: number } }[] }>()
        .items.map((p) => p.member.id);
    assert.ok(!(await participants(viewer)).includes(blocked));
    const other = viewer === 7 ? 6 : 7;
    assert.ok((await participants(other)).includes(blocked));
  });

  test('a viewer who blocked every author still pages in bounded steps and reaches the end', async () => {
    const viewer = 8;
    await db.query(
      'INSERT IGNORE INTO black_list (blacker_id, blacked_id) SELECT DISTINCT ?, member_id FROM article WHERE member_id <> ?',
      [viewer, viewer],
    );
    const own = await db.query<{ id: number }[]>('SELECT id FROM article WHERE member_id = ? ORDER BY id DESC', [
      viewer,
    ]);
    const { ids, pages } = await allArticleIds(viewer, 1);
    assert.deepEqual(
      ids,
      own.map((a) => a.id),
    );
    // 40 articles, at most 1 + HIDDEN_ROWS_PER_PAGE (20) + 1 read per page: at least two short pages.
    assert.ok(pages >= 2, `${pages} pages`);
  });
});
