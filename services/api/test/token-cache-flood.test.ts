// Only successful verifications are cached, so a flood of forged tokens cannot evict valid ones.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { createSigner, createVerifier } from 'fast-jwt';
import { createCachedVerifier, TokenError } from '../src/auth/token-cache.js';

const SECRET = 'a-test-secret-that-is-at-least-32-characters';
const CACHE_SIZE = 50;

test('10 x cacheSize forged tokens do not evict a full cache of valid tokens', () => {
  const sign = createSigner({ key: SECRET, algorithm: 'HS256' });
  const signForged = createSigner({ key: `${SECRET}-attacker`, algorithm: 'HS256' });
  const verify = createVerifier({ key: SECRET, algorithms: ['HS256'], cache: false });
  let verifyCalls = 0;
  const cached = createCachedVerifier({
    verify: (token) => {
      verifyCalls++;
      return verify(token);
    },
    cacheSize: CACHE_SIZE,
    maxTokenBytes: 4096,
  });

  const iat = Math.floor(Date.now() / 1000);
  const claims = (n: number) => ({ sub: String(n), jti: randomUUID(), iat, exp: iat + 900 });
  const valid = Array.from({ length: CACHE_SIZE }, (_, n) => sign(claims(n)));
  for (const token of valid) cached.verify(token);
  assert.deepEqual(cached.stats(), { hits: 0, misses: CACHE_SIZE, size: CACHE_SIZE });

  for (let n = 0; n < CACHE_SIZE * 10; n++) {
    // Half are signed with the wrong key, half reuse a valid token's header and payload.
    const forged =
      n % 2 === 0
        ? signForged(claims(n))
        : `${valid[n % CACHE_SIZE]!.split('.').slice(0, 2).join('.')}.${signForged(claims(n)).split('.')[2]}`;
    assert.throws(
      () => cached.verify(forged),
      (err) => err instanceof TokenError && err.code === 'TOKEN_INVALID',
    );
  }
  assert.equal(cached.stats().size, CACHE_SIZE);

  const callsBefore = verifyCalls;
  for (const [n, token] of valid.entries()) assert.equal(cached.verify(token).sub, String(n));
  assert.equal(cached.stats().hits, CACHE_SIZE, 'every valid token still hits');
  assert.equal(verifyCalls, callsBefore, 'no valid token had to be verified again');
});
