import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestDatabase } from '@mokakbab/testkit';
import { articlePlace, bearer, build, errorBody, seededDatabase, signIn, type TestApi, closeAll } from './helper.js';

let db: TestDatabase;
let api: TestApi;
let token: string;

before(async () => {
  db = await seededDatabase({ members: 10, articles: 25, participations: 60 });
  api = await build(undefined, db);
  token = (await signIn(api.app, 1)).accessToken;
});

after(() => closeAll(api, db));

interface Article {
  id: number;
  participantCount: number;
  author: { id: number; nickname: string; profileImage: string | null };
  category: { id: number; name: string };
  region: { id: number; name: string };
  district: { id: number; name: string };
  [k: string]: unknown;
}

describe('GET /articles', () => {
  test('pages newest first by id with a cursor, 20 by default', async () => {
    const first = await api.app.inject({ method: 'GET', url: '/articles' });
    assert.equal(first.statusCode, 200);
    const page1 = first.json<{ items: Article[]; nextCursor: number | null }>();
    assert.equal(page1.items.length, 20);
    const ids1 = page1.items.map((a) => a.id);
    assert.deepEqual(
      ids1,
      [...ids1].sort((a, b) => b - a),
    );
    assert.equal(page1.nextCursor, ids1.at(-1));

    const second = await api.app.inject({ method: 'GET', url: `/articles?cursor=${page1.nextCursor}&limit=20` });
    const page2 = second.json<{ items: Article[]; nextCursor: number | null }>();
    assert.equal(page2.items.length, 5);
    assert.equal(page2.nextCursor, null);
    assert.ok(page2.items.every((a) => a.id < page1.nextCursor!));
  });

  test('each article carries author, category, region, district and the ACTIVE participant count', async () => {
    const res = await api.app.inject({ method: 'GET', url: '/articles?limit=50' });
    const { items } = res.json<{ items: Article[] }>();
    const counts = await db.query<{ article_id: number; n: number }[]>(
      "SELECT article_id, COUNT(*) AS n FROM participation WHERE status = 'ACTIVE' GROUP BY article_id",
    );
    const expected = new Map(counts.map((r) => [r.article_id, Number(r.n)]));
    for (const article of items) {
      assert.equal(article.participantCount, expected.get(article.id) ?? 0);
      assert.deepEqual(Object.keys(article).sort(), [
        'articleImage',
        'author',
        'category',
        'content',
        'createdAt',
        'district',
        'endTime',
        'id',
        'likeCount',
        'participantCount',
        'region',
        'startTime',
        'title',
      ]);
      assert.ok(article.author.nickname.startsWith('eater'));
    }
  });

  test('limit outside 1..50 and a bad cursor are 400', async () => {
    for (const query of ['limit=0', 'limit=51', 'limit=x', 'cursor=0', 'cursor=-3', 'cursor=abc']) {
      const res = await api.app.inject({ method: 'GET', url: `/articles?${query}` });
      assert.equal(res.statusCode, 400, query);
      assert.match(errorBody(res).message, /^querystring\//);
    }
  });
});

describe('GET /articles/:id', () => {
  test('returns one article', async () => {
    const res = await api.app.inject({ method: 'GET', url: '/articles/3' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json<Article>().id, 3);
  });

  test('an unknown id is 404, a bad one 400', async () => {
    const missing = await api.app.inject({ method: 'GET', url: '/articles/100000' });
    assert.equal(missing.statusCode, 404);
    assert.equal(errorBody(missing).code, 'ARTICLE_NOT_FOUND');
    const bad = await api.app.inject({ method: 'GET', url: '/articles/0' });
    assert.equal(bad.statusCode, 400);
  });
});

describe('POST /articles', () => {
  const reference = () => articlePlace(db);

  const body = (ref: { category_id: number; region_id: number; district_id: number }) => ({
    title: 'Dumplings at noon',
    content: 'Anyone for dumplings?',
    categoryId: ref.category_id,
    regionId: ref.region_id,
    districtId: ref.district_id,
    startTime: '2026-12-01T12:00:00.000Z',
    endTime: '2026-12-01T14:00:00.000Z',
  });

  test('creates an article (201) written by the caller, readable afterwards', async () => {
    const ref = await reference();
    const res = await api.app.inject({ method: 'POST', url: '/articles', headers: bearer(token), payload: body(ref) });
    assert.equal(res.statusCode, 201);
    const created = res.json<Article>();
    assert.equal(created.author.id, 1);
    assert.equal(created.participantCount, 0);
    assert.equal(created.startTime, '2026-12-01T12:00:00.000Z');
    assert.equal(created.district.id, ref.district_id);
    const read = await api.app.inject({ method: 'GET', url: `/articles/${created.id}` });
    assert.deepEqual(read.json(), created);
  });

  test('unknown category, region or district, or a district of another region, is 400', async () => {
    const ref = await reference();
    const cases: [Record<string, number>, string][] = [
      [{ categoryId: 99_999 }, 'CATEGORY_NOT_FOUND'],
      [{ regionId: 99_999 }, 'REGION_NOT_FOUND'],
      [{ districtId: 99_999 }, 'DISTRICT_NOT_FOUND'],
      [{ regionId: ref.other_region }, 'DISTRICT_NOT_IN_REGION'],
    ];
    const before = await db.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM article');
    for (const [change, code] of cases) {
      const res = await api.app.inject({
        method: 'POST',
        url: '/articles',
        headers: bearer(token),
        payload: { ...body(ref), ...change },
      });
      assert.equal(res.statusCode, 400, code);
      assert.equal(errorBody(res).code, code);
    }
    const afterRows = await db.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM article');
    assert.equal(afterRows[0]!.n, before[0]!.n);
  });

  test('an end before the start, a bad date and a missing title are 400', async () => {
    const ref = await reference();
    const reversed = await api.app.inject({
      method: 'POST',
      url: '/articles',
      headers: bearer(token),
      payload: { ...body(ref), endTime: '2026-12-01T11:00:00.000Z' },
    });
    assert.equal(reversed.statusCode, 400);
    assert.equal(errorBody(reversed).code, 'INVALID_TIME_RANGE');
    const badDate = await api.app.inject({
      method: 'POST',
      url: '/articles',
      headers: bearer(token),
      payload: { ...body(ref), startTime: 'tomorrow' },
    });
    assert.equal(badDate.statusCode, 400);
    assert.match(errorBody(badDate).message, /^body\/startTime/);
    const { title: _omit, ...noTitle } = body(ref);
    const missing = await api.app.inject({
      method: 'POST',
      url: '/articles',
      headers: bearer(token),
      payload: noTitle,
    });
    assert.equal(missing.statusCode, 400);
  });

  test('without a token it is 401', async () => {
    const res = await api.app.inject({ method: 'POST', url: '/articles', payload: body(await reference()) });
    assert.equal(res.statusCode, 401);
  });

  test('dates the schema accepts but DATETIME cannot hold are 400 INVALID_DATE naming the field', async () => {
    const ref = await reference();
    const cases: [string, string][] = [
      ['startTime', '2016-12-31T23:59:60Z'], // a leap second: Date cannot represent it
      ['endTime', '9999-12-31T23:00:00-05:00'], // the year 10000 in UTC
      ['startTime', '0000-01-01T00:00:00+01:00'], // the year -1 in UTC
    ];
    const before = await db.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM article');
    for (const [field, value] of cases) {
      const res = await api.app.inject({
        method: 'POST',
        url: '/articles',
        headers: bearer(token),
        payload: { ...body(ref), [field]: value },
      });
      assert.equal(res.statusCode, 400, value);
      const error = errorBody(res);
      assert.equal(error.code, 'INVALID_DATE', value);
      assert.match(error.message, new RegExp(`^body/${field} `), value);
    }
    const afterRows = await db.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM article');
    assert.equal(afterRows[0]!.n, before[0]!.n);
  });

  test('a member deleted while its token is still valid gets 401 MEMBER_NOT_FOUND, not 500', async () => {
    const email = 'leaving@example.com';
    const signUp = await api.app.inject({
      method: 'POST',
      url: '/auth/sign-up',
      payload: { email, password: 'leaving-password-1', name: 'Leaving', nickname: 'leaver' },
    });
    assert.equal(signUp.statusCode, 201);
    const signInRes = await api.app.inject({
      method: 'POST',
      url: '/auth/sign-in',
      payload: { email, password: 'leaving-password-1' },
    });
    const orphan = signInRes.json<{ accessToken: string }>().accessToken;
    await db.query('DELETE FROM member WHERE email = ?', [email]);

    const article = await api.app.inject({
      method: 'POST',
      url: '/articles',
      headers: bearer(orphan),
      payload: body(await reference()),
    });
    assert.equal(article.statusCode, 401);
    assert.equal(errorBody(article).code, 'MEMBER_NOT_FOUND');
    assert.equal(article.headers['www-authenticate'], 'Bearer');
    const join = await api.app.inject({
      method: 'POST',
      url: '/participations',
      headers: bearer(orphan),
      payload: { articleId: 1 },
    });
    assert.equal(join.statusCode, 401, 'the member is missing, not the article');
    assert.equal(errorBody(join).code, 'MEMBER_NOT_FOUND');
  });
});
