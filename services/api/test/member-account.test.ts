import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { seededMember } from '@mokakbab/db';
import { type TestDatabase } from '@mokakbab/testkit';
import { bearer, build, closeAll, errorBody, seededDatabase, signIn, type TestApi } from './helper.js';
import { accessTokenFor } from './helper-tokens.js';

let db: TestDatabase;
let api: TestApi;

before(async () => {
  db = await seededDatabase({ members: 10, articles: 20, participations: 40 });
  api = await build(undefined, db);
});

after(() => closeAll(api, db));

const auth = (memberId: number) => bearer(accessTokenFor(api.app, memberId));

describe('PATCH /members/:id', () => {
  test('the member changes nickname and name; the profile shows them', async () => {
    const res = await api.app.inject({
      method: 'PATCH',
      url: '/members/2',
      headers: auth(2),
      payload: { nickname: 'noodle-fan', name: 'Kim' },
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().nickname, 'noodle-fan');
    assert.equal(res.json().name, 'Kim');
  });

  test('a new password is hashed, and ends every session: refresh tokens and live access tokens', async () => {
    const sessions = [await signIn(api.app, 3), await signIn(api.app, 3)];
    const res = await api.app.inject({
      method: 'PATCH',
      url: '/members/3',
      headers: bearer(sessions[0]!.accessToken),
      payload: { password: 'a-brand-new-password' },
    });
    assert.equal(res.statusCode, 200);
    for (const session of sessions) {
      const read = await api.app.inject({ method: 'GET', url: '/members/3', headers: bearer(session.accessToken) });
      assert.equal(read.statusCode, 401);
      const refresh = await api.app.inject({
        method: 'POST',
        url: '/auth/access-token',
        payload: { refreshToken: session.refreshToken },
      });
      assert.equal(refresh.statusCode, 401);
    }
    // What the other instances poll: the member-wide revocation row.
    const [revocation] = await db.query<{ n: number }[]>(
      'SELECT COUNT(*) AS n FROM member_revocation WHERE member_id = 3',
    );
    assert.equal(Number(revocation!.n), 1);
    const [row] = await db.query<{ password_hash: string }[]>('SELECT password_hash FROM member WHERE id = 3');
    assert.ok(!row!.password_hash.includes('a-brand-new-password'));
    const old = await api.app.inject({ method: 'POST', url: '/auth/sign-in', payload: seededMember(3) });
    assert.equal(old.statusCode, 401);
    const fresh = await api.app.inject({
      method: 'POST',
      url: '/auth/sign-in',
      payload: { email: seededMember(3).email, password: 'a-brand-new-password' },
    });
    assert.equal(fresh.statusCode, 200);
  });

  test("someone else's account is 403, an unknown one 404, bad bodies 400", async () => {
    const other = await api.app.inject({
      method: 'PATCH',
      url: '/members/2',
      headers: auth(1),
      payload: { name: 'x' },
    });
    assert.equal(other.statusCode, 403);
    assert.equal(errorBody(other).code, 'NOT_OWNER');
    const unknown = await api.app.inject({
      method: 'PATCH',
      url: '/members/999',
      headers: auth(1),
      payload: { name: 'x' },
    });
    assert.equal(unknown.statusCode, 404);
    for (const payload of [{}, { password: 'short' }, { nickname: '' }]) {
      const res = await api.app.inject({ method: 'PATCH', url: '/members/1', headers: auth(1), payload });
      assert.equal(res.statusCode, 400, JSON.stringify(payload));
    }
    const [row] = await db.query<{ name: string }[]>('SELECT name FROM member WHERE id = 2');
    assert.equal(row!.name, 'Kim');
  });
});

describe('DELETE /members/:id', () => {
  test("someone else's account is 403 and an unknown one 404", async () => {
    assert.equal((await api.app.inject({ method: 'DELETE', url: '/members/5', headers: auth(4) })).statusCode, 403);
    assert.equal((await api.app.inject({ method: 'DELETE', url: '/members/999', headers: auth(4) })).statusCode, 404);
  });

  test('deletes the member, their articles, likes, participations and blocks; like counts stay true', async () => {
    const memberId = 6;
    const tokens = await signIn(api.app, memberId);
    const [liked] = await db.query<{ id: number }[]>(
      'SELECT id FROM article WHERE member_id <> ? ORDER BY id LIMIT 1',
      [memberId],
    );
    const like = await api.app.inject({ method: 'PUT', url: `/articles/${liked!.id}/like`, headers: auth(memberId) });
    assert.equal(like.json().likeCount, 1);
    const block = await api.app.inject({
      method: 'POST',
      url: '/members/blacks',
      headers: auth(memberId),
      payload: { blackedId: 1 },
    });
    assert.equal(block.statusCode, 201);

    const res = await api.app.inject({
      method: 'DELETE',
      url: `/members/${memberId}`,
      headers: bearer(tokens.accessToken),
    });
    assert.equal(res.statusCode, 204);

    const [left] = await db.query<Record<string, number>[]>(
      `SELECT (SELECT COUNT(*) FROM member WHERE id = ?) AS members,
         (SELECT COUNT(*) FROM article WHERE member_id = ?) AS articles,
         (SELECT COUNT(*) FROM article_like WHERE member_id = ?) AS likes,
         (SELECT COUNT(*) FROM participation WHERE member_id = ?) AS participations,
         (SELECT COUNT(*) FROM black_list WHERE blacker_id = ?) AS blocks,
         (SELECT COUNT(*) FROM refresh_token WHERE member_id = ?) AS refresh_tokens,
         (SELECT like_count FROM article WHERE id = ?) AS like_count`,
      [memberId, memberId, memberId, memberId, memberId, memberId, liked!.id],
    );
    assert.deepEqual(Object.fromEntries(Object.entries(left!).map(([k, v]) => [k, Number(v)])), {
      members: 0,
      articles: 0,
      likes: 0,
      participations: 0,
      blocks: 0,
      refresh_tokens: 0,
      like_count: 0,
    });
    const refresh = await api.app.inject({
      method: 'POST',
      url: '/auth/access-token',
      payload: { refreshToken: tokens.refreshToken },
    });
    assert.equal(refresh.statusCode, 401);
    // Every access token of the member stops working at once, reads included.
    const read = await api.app.inject({ method: 'GET', url: '/articles?limit=1', headers: bearer(tokens.accessToken) });
    assert.equal(read.statusCode, 401);
    const [revocation] = await db.query<{ n: number }[]>(
      'SELECT COUNT(*) AS n FROM member_revocation WHERE member_id = ?',
      [memberId],
    );
    assert.equal(Number(revocation!.n), 1);
  });
});

test('/docs/json documents every route this service added for the original clients', async () => {
  const doc = await api.app.inject({ method: 'GET', url: '/docs/json' });
  const paths = doc.json<{ paths: Record<string, Record<string, unknown>> }>().paths;
  for (const [path, method] of [
    ['/auth/verify-email', 'post'],
    ['/members/{id}', 'patch'],
    ['/members/{id}', 'delete'],
    ['/members/{id}/profile-image', 'patch'],
    ['/members/blacks', 'get'],
    ['/members/blacks', 'post'],
    ['/members/blacks/{id}', 'delete'],
    ['/articles/{id}', 'patch'],
    ['/articles/{id}', 'delete'],
    ['/articles/{id}/like', 'put'],
    ['/articles/upload-image', 'patch'],
    ['/images/{key}', 'get'],
    ['/participations/', 'get'],
    ['/participations/{id}', 'get'],
  ] as const) {
    assert.ok(paths[path]?.[method], `${method.toUpperCase()} ${path}`);
  }
});
