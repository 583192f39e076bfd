import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestDatabase } from '@mokakbab/db';
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
