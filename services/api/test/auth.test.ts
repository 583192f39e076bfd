import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestDatabase } from '@mokakbab/testkit';
import { issuedAtMs, newTokenId } from '../src/auth/token-id.js';
import { revokeAllTokensOfMember } from '../src/repositories/members.js';
import { bearer, build, errorBody, seededDatabase, signIn, type TestApi, type Tokens, closeAll } from './helper.js';

let db: TestDatabase;
let api: TestApi;

before(async () => {
  db = await seededDatabase();
  api = await build(undefined, db);
});

after(() => closeAll(api, db));

const newMember = { email: 'new.member@example.com', password: 'correct horse', name: 'New', nickname: 'newbie' };

describe('POST /auth/sign-up', () => {
  test('creates a member (201) whose password then signs in', async () => {
    const res = await api.app.inject({ method: 'POST', url: '/auth/sign-up', payload: newMember });
    assert.equal(res.statusCode, 201);
    const body = res.json();
    assert.ok(Number.isInteger(body.id));
    assert.deepEqual(body, { id: body.id, email: newMember.email, name: newMember.name, nickname: newMember.nickname });
    const [row] = await db.query<{ password_hash: string }[]>('SELECT password_hash FROM member WHERE id = ?', [
      body.id,
    ]);
    assert.match(row!.password_hash, /^scrypt\$16\$8\$1\$/);
    const signIn = await api.app.inject({
      method: 'POST',
      url: '/auth/sign-in',
      payload: { email: newMember.email, password: newMember.password },
    });
    assert.equal(signIn.statusCode, 200);
  });

  test('a taken email is 409', async () => {
    const res = await api.app.inject({
      method: 'POST',
      url: '/auth/sign-up',
      payload: { ...newMember, email: 'member1@example.com' },
    });
    assert.equal(res.statusCode, 409);
    assert.equal(errorBody(res).code, 'EMAIL_TAKEN');
  });

  test('an invalid email is 400 naming the field', async () => {
    const res = await api.app.inject({
      method: 'POST',
      url: '/auth/sign-up',
      payload: { ...newMember, email: 'nope' },
    });
    assert.equal(res.statusCode, 400);
    const body = errorBody(res);
    assert.equal(body.code, 'FST_ERR_VALIDATION');
    assert.equal(body.message, 'body/email must match format "email"');
  });

  test('a missing field and a short password are 400 naming the field', async () => {
    const { nickname: _omit, ...withoutNickname } = newMember;
    const missing = await api.app.inject({ method: 'POST', url: '/auth/sign-up', payload: withoutNickname });
    assert.equal(missing.statusCode, 400);
    assert.match(errorBody(missing).message, /nickname/);
    const short = await api.app.inject({
      method: 'POST',
      url: '/auth/sign-up',
      payload: { ...newMember, password: 'x' },
    });
    assert.equal(short.statusCode, 400);
    assert.match(errorBody(short).message, /^body\/password/);
  });

  test('a wrong type is 400', async () => {
    const res = await api.app.inject({
      method: 'POST',
      url: '/auth/sign-up',
      payload: { ...newMember, name: { a: 1 } },
    });
    assert.equal(res.statusCode, 400);
    assert.match(errorBody(res).message, /^body\/name must be string/);
  });

  test('malformed JSON is 400, not 500', async () => {
    const res = await api.app.inject({
      method: 'POST',
      url: '/auth/sign-up',
      headers: { 'content-type': 'application/json' },
      payload: '{"email": "a@b.c", ',
    });
    assert.equal(res.statusCode, 400);
    assert.equal(errorBody(res).code, 'FST_ERR_CTP_INVALID_JSON_BODY');
  });

  test('an unsupported media type is 415', async () => {
    const res = await api.app.inject({
      method: 'POST',
      url: '/auth/sign-up',
      headers: { 'content-type': 'application/xml' },
      payload: '<member/>',
    });
    assert.equal(res.statusCode, 415);
    assert.equal(errorBody(res).code, 'FST_ERR_CTP_INVALID_MEDIA_TYPE');
  });

  test('a body over BODY_LIMIT_BYTES is 413', async () => {
    const res = await api.app.inject({
      method: 'POST',
      url: '/auth/sign-up',
      payload: { ...newMember, name: 'x'.repeat(api.config.bodyLimitBytes + 1) },
    });
    assert.equal(res.statusCode, 413);
    assert.equal(errorBody(res).code, 'FST_ERR_CTP_BODY_TOO_LARGE');
  });
});

describe('POST /auth/sign-in', () => {
  test('returns a bearer access token and a refresh token', async () => {
    const tokens = await signIn(api.app, 2);
    assert.equal(tokens.tokenType, 'Bearer');
    assert.equal(tokens.expiresIn, api.config.accessTokenTtlS);
    assert.match(tokens.refreshToken, /^[A-Za-z0-9_-]{43}$/);
    const claims = api.app.jwt.decode<{ sub: string; jti: string; iat: number; exp: number }>(tokens.accessToken)!;
    assert.equal(claims.sub, '2');
    assert.match(claims.jti, /^[0-9a-f-]{36}$/);
    assert.equal(claims.exp - claims.iat, api.config.accessTokenTtlS);
  });

  test('a wrong password and an unknown email get the same 401', async () => {
    const wrong = await api.app.inject({
      method: 'POST',
      url: '/auth/sign-in',
      payload: { email: 'member2@example.com', password: 'password3' },
    });
    const unknown = await api.app.inject({
      method: 'POST',
      url: '/auth/sign-in',
      payload: { email: 'nobody@example.com', password: 'password3' },
    });
    assert.equal(wrong.statusCode, 401);
    assert.equal(unknown.statusCode, 401);
    assert.deepEqual(errorBody(wrong), errorBody(unknown));
  });
});

describe('POST /auth/access-token', () => {
  test('rotates the refresh token: the new one works, the old one is then 401', async () => {
    const first = await signIn(api.app, 3);
    const rotated = await api.app.inject({
      method: 'POST',
      url: '/auth/access-token',
      payload: { refreshToken: first.refreshToken },
    });
    assert.equal(rotated.statusCode, 200);
    const second = rotated.json<Tokens>();
    assert.notEqual(second.refreshToken, first.refreshToken);
    assert.notEqual(second.accessToken, first.accessToken);
    const me = await api.app.inject({ method: 'GET', url: '/members/3', headers: bearer(second.accessToken) });
    assert.equal(me.statusCode, 200);

    const reuse = await api.app.inject({
      method: 'POST',
      url: '/auth/access-token',
      payload: { refreshToken: first.refreshToken },
    });
    assert.equal(reuse.statusCode, 401);
    assert.equal(errorBody(reuse).code, 'UNAUTHORIZED');

    const again = await api.app.inject({
      method: 'POST',
      url: '/auth/access-token',
      payload: { refreshToken: second.refreshToken },
    });
    assert.equal(again.statusCode, 200);
  });

  test('4 concurrent refreshes with the same token: exactly one 200, the others 401', async () => {
    const tokens = await signIn(api.app, 6);
    const results = await Promise.all(
      Array.from({ length: 4 }, () =>
        api.app.inject({ method: 'POST', url: '/auth/access-token', payload: { refreshToken: tokens.refreshToken } }),
      ),
    );
    const statuses = results.map((r) => r.statusCode).sort();
    assert.deepEqual(statuses, [200, 401, 401, 401]);
    const winner = results.find((r) => r.statusCode === 200)!.json<Tokens>();
    const again = await api.app.inject({
      method: 'POST',
      url: '/auth/access-token',
      payload: { refreshToken: winner.refreshToken },
    });
    assert.equal(again.statusCode, 200, 'the one rotated token works');
  });

  test('an unknown or expired refresh token is 401', async () => {
    const unknown = await api.app.inject({
      method: 'POST',
      url: '/auth/access-token',
      payload: { refreshToken: 'not-a-token' },
    });
    assert.equal(unknown.statusCode, 401);
    const tokens = await signIn(api.app, 4);
    await db.query(
      'UPDATE refresh_token SET expires_at = CURRENT_TIMESTAMP(3) - INTERVAL 1 SECOND WHERE member_id = 4',
    );
    const expired = await api.app.inject({
      method: 'POST',
      url: '/auth/access-token',
      payload: { refreshToken: tokens.refreshToken },
    });
    assert.equal(expired.statusCode, 401);
  });
});

describe('POST /auth/sign-out', () => {
  test('revokes the access token (then 401) and the refresh token', async () => {
    const tokens = await signIn(api.app, 5);
    const before = await api.app.inject({ method: 'GET', url: '/members/5', headers: bearer(tokens.accessToken) });
    assert.equal(before.statusCode, 200);
    const out = await api.app.inject({
      method: 'POST',
      url: '/auth/sign-out',
      headers: bearer(tokens.accessToken),
      payload: { refreshToken: tokens.refreshToken },
    });
    assert.equal(out.statusCode, 204);
    assert.equal(out.body, '');

    const afterOut = await api.app.inject({ method: 'GET', url: '/members/5', headers: bearer(tokens.accessToken) });
    assert.equal(afterOut.statusCode, 401);
    assert.equal(afterOut.headers['www-authenticate'], 'Bearer');
    assert.match(errorBody(afterOut).message, /revoked/);

    const refresh = await api.app.inject({
      method: 'POST',
      url: '/auth/access-token',
      payload: { refreshToken: tokens.refreshToken },
    });
    assert.equal(refresh.statusCode, 401);
    const [row] = await db.query<{ n: number }[]>(
      'SELECT COUNT(*) AS n FROM access_token_denylist WHERE member_id = 5',
    );
    assert.equal(Number(row!.n), 1);
  });

  test('works without a body', async () => {
    const tokens = await signIn(api.app, 6);
    const out = await api.app.inject({ method: 'POST', url: '/auth/sign-out', headers: bearer(tokens.accessToken) });
    assert.equal(out.statusCode, 204);
    const afterOut = await api.app.inject({ method: 'GET', url: '/members/6', headers: bearer(tokens.accessToken) });
    assert.equal(afterOut.statusCode, 401);
  });

  test('needs a token', async () => {
    const res = await api.app.inject({ method: 'POST', url: '/auth/sign-out', payload: {} });
    assert.equal(res.statusCode, 401);
  });
});

describe('the auth hook', () => {
  const url = '/members/1';

  test('no Authorization header, another scheme, or an empty token: 401 with WWW-Authenticate', async () => {
    for (const headers of [
      {},
      { authorization: 'Basic dTpw' },
      { authorization: 'Bearer ' },
      { authorization: 'Bearerx token' },
      { authorization: 'Bea"er token' },
    ]) {
      const res = await api.app.inject({ method: 'GET', url, headers });
      assert.equal(res.statusCode, 401, JSON.stringify(headers));
      assert.equal(res.headers['www-authenticate'], 'Bearer');
      assert.equal(errorBody(res).code, 'UNAUTHORIZED');
    }
  });

  test('a forged, a malformed or an oversized token is 401', async () => {
    const tokens = await signIn(api.app, 7);
    const [header, payload] = tokens.accessToken.split('.');
    const forged = `${header}.${payload}.${'A'.repeat(43)}`;
    const oversized = `${tokens.accessToken}${'A'.repeat(api.config.jwtMaxTokenBytes)}`;
    for (const token of [forged, 'not.a.jwt', oversized]) {
      const res = await api.app.inject({ method: 'GET', url, headers: bearer(token) });
      assert.equal(res.statusCode, 401);
    }
    const tooLong = await api.app.inject({ method: 'GET', url, headers: bearer(oversized) });
    assert.match(errorBody(tooLong).message, /too long/);
  });

  test('an expired token is 401', async () => {
    const expired = api.app.jwt.sign({ sub: '1', jti: crypto.randomUUID() }, { expiresIn: -10 });
    const res = await api.app.inject({ method: 'GET', url, headers: bearer(expired) });
    assert.equal(res.statusCode, 401);
    assert.match(errorBody(res).message, /expired/);
  });

  test('the scheme is case-insensitive and repeated requests hit the cache', async () => {
    const tokens = await signIn(api.app, 8);
    const before = api.app.tokenVerifier.stats();
    for (let i = 0; i < 3; i++) {
      const res = await api.app.inject({
        method: 'GET',
        url,
        headers: { authorization: `${['bearer', 'BEARER', 'BeArEr'][i]} ${tokens.accessToken}` },
      });
      assert.equal(res.statusCode, 200);
    }
    const stats = api.app.tokenVerifier.stats();
    assert.equal(stats.misses - before.misses, 1);
    assert.equal(stats.hits - before.hits, 2);
  });
});

// For DELETE /members/:id and password change: inside the caller's transaction, every access and
// refresh token issued so far stops, on this instance at once; tokens issued afterwards work.
describe('revoking every token of a member', () => {
  test('revokeAllTokensOfMember: old access and refresh tokens stop at once, a new sign-in works', async () => {
    const old = await signIn(api.app, 15);
    const other = await signIn(api.app, 16);
    const profile = (token: string) =>
      api.app.inject({ method: 'GET', url: '/members/15', headers: bearer(token) }).then((r) => r.statusCode);
    assert.equal(await profile(old.accessToken), 200);

    await api.app.db.transaction((conn) => revokeAllTokensOfMember(conn, 15));

    assert.equal(await profile(old.accessToken), 401, 'no poll needed on this instance');
    const refresh = await api.app.inject({
      method: 'POST',
      url: '/auth/access-token',
      payload: { refreshToken: old.refreshToken },
    });
    assert.equal(refresh.statusCode, 401);
    assert.equal(await profile(other.accessToken), 200, "another member's token is untouched");
    const again = await signIn(api.app, 15);
    assert.equal(await profile(again.accessToken), 200, 'a token issued after the revocation works at once');
  });

  test('token ids are UUIDv7 carrying their issue time; other ids fall back to the start of iat', () => {
    const nowMs = 1_796_000_000_123;
    const jti = newTokenId(nowMs);
    assert.match(jti, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(issuedAtMs(jti, Math.floor(nowMs / 1000)), nowMs);
    assert.equal(issuedAtMs(crypto.randomUUID(), 1_796_000_000), 1_796_000_000_000);
    assert.equal(issuedAtMs(jti, 1_700_000_000), 1_700_000_000_000, 'a time outside its iat second is not trusted');
  });
});
