import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestDatabase } from '@mokakbab/testkit';
import { articlePlace, bearer, build, closeAll, errorBody, seededDatabase, type TestApi } from './helper.js';
import { accessTokenFor } from './helper-tokens.js';

let db: TestDatabase;
let api: TestApi;

before(async () => {
  db = await seededDatabase({ members: 10, articles: 0, participations: 0 });
  api = await build(undefined, db);
});

after(() => closeAll(api, db));

const auth = (memberId: number) => bearer(accessTokenFor(api.app, memberId));

const place = () => articlePlace(db);

async function createArticle(memberId: number, extra: Record<string, unknown> = {}) {
  const ref = await place();
  const res = await api.app.inject({
    method: 'POST',
    url: '/articles',
    headers: auth(memberId),
    payload: {
      title: 'Noodles',
      content: 'Cold noodles downtown',
      categoryId: ref.category_id,
      regionId: ref.region_id,
      districtId: ref.district_id,
      startTime: '2026-12-01T12:00:00.000Z',
      endTime: '2026-12-01T14:00:00.000Z',
      ...extra,
    },
  });
  assert.equal(res.statusCode, 201, res.body);
  return res.json<{ id: number; articleImage: string | null; title: string }>();
}

test('POST /articles stores articleImage', async () => {
  const created = await createArticle(1, { articleImage: '/images/abc.png' });
  assert.equal(created.articleImage, '/images/abc.png');
  const read = await api.app.inject({ method: 'GET', url: `/articles/${created.id}` });
  assert.equal(read.json().articleImage, '/images/abc.png');
});

describe('PATCH /articles/:id', () => {
  test('the author changes the given fields only; null removes the image', async () => {
    const created = await createArticle(1, { articleImage: '/images/x.png' });
    const res = await api.app.inject({
      method: 'PATCH',
      url: `/articles/${created.id}`,
      headers: auth(1),
      payload: { title: 'Hot noodles', endTime: '2026-12-01T15:00:00.000Z', articleImage: null },
    });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.equal(body.title, 'Hot noodles');
    assert.equal(body.content, 'Cold noodles downtown');
    assert.equal(body.endTime, '2026-12-01T15:00:00.000Z');
    assert.equal(body.articleImage, null);
  });

  test('someone else gets 403, an unknown article 404, and nothing changes', async () => {
    const created = await createArticle(1);
    const other = await api.app.inject({
      method: 'PATCH',
      url: `/articles/${created.id}`,
      headers: auth(2),
      payload: { title: 'Mine now' },
    });
    assert.equal(other.statusCode, 403);
    assert.equal(errorBody(other).code, 'NOT_OWNER');
    const unknown = await api.app.inject({
      method: 'PATCH',
      url: '/articles/99999',
      headers: auth(1),
      payload: { title: 'x' },
    });
    assert.equal(unknown.statusCode, 404);
    assert.equal((await api.app.inject({ method: 'GET', url: `/articles/${created.id}` })).json().title, 'Noodles');
  });

  test('bad edits are 400 and change nothing: empty body, times reversed, district of another region', async () => {
    const created = await createArticle(1);
    const ref = await place();
    for (const [payload, code] of [
      [{}, 'FST_ERR_VALIDATION'],
      [{ startTime: '2026-12-01T16:00:00.000Z' }, 'INVALID_TIME_RANGE'],
      [{ districtId: ref.other_district }, 'DISTRICT_NOT_IN_REGION'],
      [{ categoryId: 99_999 }, 'CATEGORY_NOT_FOUND'],
      [{ title: '' }, 'FST_ERR_VALIDATION'],
    ] as const) {
      const res = await api.app.inject({ method: 'PATCH', url: `/articles/${created.id}`, headers: auth(1), payload });
      assert.equal(res.statusCode, 400, JSON.stringify(payload));
      assert.equal(errorBody(res).code, code);
    }
    const [row] = await db.query<{ start_time: Date; district_id: number }[]>(
      'SELECT start_time, district_id FROM article WHERE id = ?',
      [created.id],
    );
    assert.equal(row!.start_time.toISOString(), '2026-12-01T12:00:00.000Z');
    assert.equal(row!.district_id, ref.district_id);
  });
});

describe('DELETE /articles/:id', () => {
  test('the author deletes it; its participations and likes go with it', async () => {
    const created = await createArticle(1);
    const join = await api.app.inject({
      method: 'POST',
      url: '/participations',
      headers: auth(3),
      payload: { articleId: created.id },
    });
    assert.equal(join.statusCode, 201);
    assert.equal(
      (await api.app.inject({ method: 'PUT', url: `/articles/${created.id}/like`, headers: auth(3) })).statusCode,
      200,
    );

    const forbidden = await api.app.inject({ method: 'DELETE', url: `/articles/${created.id}`, headers: auth(3) });
    assert.equal(forbidden.statusCode, 403);

    const res = await api.app.inject({ method: 'DELETE', url: `/articles/${created.id}`, headers: auth(1) });
    assert.equal(res.statusCode, 204);
    assert.equal((await api.app.inject({ method: 'GET', url: `/articles/${created.id}` })).statusCode, 404);
    const [left] = await db.query<{ likes: number; participations: number }[]>(
      `SELECT (SELECT COUNT(*) FROM article_like WHERE article_id = ?) AS likes,
         (SELECT COUNT(*) FROM participation WHERE article_id = ?) AS participations`,
      [created.id, created.id],
    );
    assert.deepEqual(
      { likes: Number(left!.likes), participations: Number(left!.participations) },
      { likes: 0, participations: 0 },
    );
    const again = await api.app.inject({ method: 'DELETE', url: `/articles/${created.id}`, headers: auth(1) });
    assert.equal(again.statusCode, 404);
  });
});
