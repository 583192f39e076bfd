// revokeAllTokensOfMember (for DELETE /members/:id and password change): inside the caller's
// transaction it deletes the member's refresh tokens and revokes every access token issued so far,
// on this instance at once; tokens issued afterwards work. And the UUIDv7 token ids it relies on.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { TestDatabase } from '@mokakbab/db';
import { issuedAtMs, newTokenId } from '../src/auth/token-id.js';
import { revokeAllTokensOfMember } from '../src/repositories/members.js';
import { bearer, build, closeAll, seededDatabase, signIn, type TestApi } from './helper.js';

let db: TestDatabase;
let api: TestApi;

before(async () => {
  db = await seededDatabase();
  api = await build(undefined, db);
});

after(() => closeAll(api, db));

test('revokeAllTokensOfMember: old access and refresh tokens stop at once, a new sign-in works', async () => {
  const old = await signIn(api.app, 3);
  const other = await signIn(api.app, 4);
  const profile = (token: string) =>
    api.app.inject({ method: 'GET', url: '/members/3', headers: bearer(token) }).then((r) => r.statusCode);
  assert.equal(await profile(old.accessToken), 200);

  await api.app.db.transaction((conn) => revokeAllTokensOfMember(conn, 3));

  assert.equal(await profile(old.accessToken), 401, 'no poll needed on this instance');
  const refresh = await api.app.inject({
    method: 'POST',
    url: '/auth/access-token',
    payload: { refreshToken: old.refreshToken },
  });
  assert.equal(refresh.statusCode, 401);
  assert.equal(await profile(other.accessToken), 200, "another member's token is untouched");
  const again = await signIn(api.app, 3);
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
