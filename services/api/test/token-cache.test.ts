import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { createSigner, createVerifier } from 'fast-jwt';
import {
  cacheKey,
  createCachedVerifier,
  TokenError,
  type AccessClaims,
  type CachedVerifierOptions,
} from '../src/auth/token-cache.js';

const SECRET = 'a-test-secret-that-is-at-least-32-characters';
const nowS = (): number => Math.floor(Date.now() / 1000);

function claims(extra: Partial<AccessClaims> = {}): AccessClaims {
  const iat = nowS();
  return { sub: '42', jti: randomUUID(), iat, exp: iat + 900, ...extra };
}

// Real fast-jwt on both sides, its own cache off, as @fastify/jwt is configured in the API.
const signHs = createSigner({ key: SECRET, algorithm: 'HS256' });
const verifyHs = createVerifier({ key: SECRET, algorithms: ['HS256'], cache: false });
const signForged = createSigner({ key: `${SECRET}-but-not-ours`, algorithm: 'HS256' });

function spied(verify: (token: string) => AccessClaims): {
  verify: (token: string) => AccessClaims;
  calls: () => number;
} {
  let calls = 0;
  return {
    verify: (token) => {
      calls++;
      return verify(token);
    },
    calls: () => calls,
  };
}

function verifier(overrides: Partial<CachedVerifierOptions> = {}) {
  const spy = spied(verifyHs);
  const cached = createCachedVerifier({ verify: spy.verify, cacheSize: 100, maxTokenBytes: 4096, ...overrides });
  return { cached, calls: spy.calls };
}

function rejects(fn: () => unknown, code: TokenError['code']): void {
  assert.throws(fn, (err: unknown) => err instanceof TokenError && err.code === code);
}

describe('hits and misses', () => {
  test('the second verification of a token is a hit and does no crypto', () => {
    const { cached, calls } = verifier();
    const token = signHs(claims({ sub: '7' }));
    assert.equal(cached.verify(token).sub, '7');
    assert.equal(cached.verify(token).sub, '7');
    assert.deepEqual(cached.stats(), { hits: 1, misses: 1, size: 1 });
    assert.equal(calls(), 1);
  });

  test('RS256 tokens verified with a public key are cached the same way', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    const sign = createSigner({ key: privateKey, algorithm: 'RS256' });
    const spy = spied(createVerifier({ key: publicKey, algorithms: ['RS256'], cache: false }));
    const cached = createCachedVerifier({ verify: spy.verify, cacheSize: 10, maxTokenBytes: 4096 });
    const token = sign(claims({ sub: '9' }));
    assert.equal(cached.verify(token).sub, '9');
    assert.equal(cached.verify(token).sub, '9');
    assert.equal(spy.calls(), 1);
    // An HS256 token signed with the public key as secret (algorithm confusion) is refused.
    const confused = createSigner({ key: publicKey, algorithm: 'HS256' })(claims());
    rejects(() => cached.verify(confused), 'TOKEN_INVALID');
  });

  test('cacheSize 0 disables the cache: every call verifies', () => {
    const { cached, calls } = verifier({ cacheSize: 0 });
    const token = signHs(claims());
    for (let i = 0; i < 3; i++) cached.verify(token);
    assert.equal(calls(), 3);
    assert.deepEqual(cached.stats(), { hits: 0, misses: 3, size: 0 });
  });

  test('the cache is a bounded LRU: a hit protects an entry from eviction', () => {
    const { cached, calls } = verifier({ cacheSize: 3 });
    const [a, b, c, d] = [1, 2, 3, 4].map((n) => signHs(claims({ sub: String(n) }))) as [
      string,
      string,
      string,
      string,
    ];
    cached.verify(a);
    cached.verify(b);
    cached.verify(c);
    cached.verify(a); // a becomes the most recent, b the least
    cached.verify(d); // evicts b
    assert.equal(cached.stats().size, 3);
    const before = calls();
    cached.verify(a);
    cached.verify(c);
    cached.verify(d);
    assert.equal(calls(), before, 'a, c and d are still cached');
    cached.verify(b);
    assert.equal(calls(), before + 1, 'b was evicted');
  });

  test('the key is a SHA-256 digest of the whole token: one character apart means two entries', () => {
    const base = claims();
    // A verifier that accepts both, so only the cache key can tell them apart.
    const spy = spied((token) => ({ ...base, sub: token.endsWith('a') ? '1' : '2' }));
    const { cached } = verifier({ verify: spy.verify });
    const [a, b] = ['header.payload.signa', 'header.payload.signb'];
    assert.equal(cacheKey(a).length, 44, 'a base64 SHA-256 digest');
    assert.notEqual(cacheKey(a), cacheKey(b));
    assert.equal(cached.verify(a).sub, '1');
    assert.equal(cached.verify(b).sub, '2');
    assert.equal(cached.verify(a).sub, '1');
    assert.equal(cached.verify(b).sub, '2');
    assert.deepEqual(cached.stats(), { hits: 2, misses: 2, size: 2 });
    assert.equal(spy.calls(), 2);
  });

  test('same header and payload with another signature is not served from the cache', () => {
    const { cached } = verifier();
    const payload = claims();
    const good = signHs(payload);
    cached.verify(good);
    const forged = `${good.slice(0, good.lastIndexOf('.'))}.${signForged(payload).split('.')[2]}`;
    assert.notEqual(forged, good);
    rejects(() => cached.verify(forged), 'TOKEN_INVALID');
    assert.deepEqual(cached.stats(), { hits: 0, misses: 2, size: 1 });
  });
});

describe('payload isolation', () => {
  test('a caller mutating its payload does not change what the next hit returns', () => {
    const { cached } = verifier();
    const token = signHs(claims({ sub: '5', roles: ['member'], profile: { name: 'kim' } }));
    const first = cached.verify(token) as AccessClaims & { roles: string[]; profile: { name: string } };
    assert.throws(() => {
      first.sub = '1';
    }, TypeError);
    assert.throws(() => first.roles.push('admin'), TypeError);
    assert.throws(() => {
      first.profile.name = 'lee';
    }, TypeError);
    const second = cached.verify(token);
    assert.equal(cached.stats().hits, 1);
    assert.equal(second.sub, '5');
    assert.deepEqual(second.roles, ['member']);
    assert.deepEqual(second.profile, { name: 'kim' });
  });
});

describe('rejections', () => {
  test('a token longer than maxTokenBytes is rejected before any verification', () => {
    const { cached, calls } = verifier({ maxTokenBytes: 512 });
    const token = signHs(claims({ padding: 'x'.repeat(600) }));
    rejects(() => cached.verify(token), 'TOKEN_TOO_LONG');
    rejects(() => cached.verify('x'.repeat(100_000)), 'TOKEN_TOO_LONG');
    assert.equal(calls(), 0);
    assert.deepEqual(cached.stats(), { hits: 0, misses: 0, size: 0 });
    const fits = signHs(claims());
    assert.ok(fits.length <= 512);
    cached.verify(fits);
    assert.equal(calls(), 1);
  });

  test('an empty token is TOKEN_MISSING', () => {
    const { cached, calls } = verifier();
    rejects(() => cached.verify(''), 'TOKEN_MISSING');
    assert.equal(calls(), 0);
  });

  test('fast-jwt errors map to TokenError codes and are never cached', () => {
    const { cached, calls } = verifier();
    const expired = signHs(claims({ iat: nowS() - 120, exp: nowS() - 60 }));
    const inactive = signHs(claims({ nbf: nowS() + 600 }));
    const cases: Array<[string, TokenError['code']]> = [
      [expired, 'TOKEN_EXPIRED'],
      [inactive, 'TOKEN_NOT_ACTIVE'],
      [signForged(claims()), 'TOKEN_INVALID'],
      ['not.a.jwt', 'TOKEN_INVALID'],
      ['garbage', 'TOKEN_INVALID'],
    ];
    for (const [token, code] of cases) {
      rejects(() => cached.verify(token), code);
      rejects(() => cached.verify(token), code);
    }
    assert.equal(calls(), cases.length * 2, 'failures are verified again every time');
    assert.equal(cached.stats().size, 0);
  });

  test('the fast-jwt error is kept as the cause', () => {
    const { cached } = verifier();
    const err = (() => {
      try {
        cached.verify(signForged(claims()));
      } catch (e) {
        return e as TokenError;
      }
      assert.fail('expected a TokenError');
    })();
    assert.equal((err.cause as { code?: string }).code, 'FAST_JWT_INVALID_SIGNATURE');
  });

  test('an error that is not from fast-jwt is rethrown unchanged', () => {
    const bug = new RangeError('bug in the verifier');
    const cached = createCachedVerifier({
      verify: () => {
        throw bug;
      },
      cacheSize: 10,
      maxTokenBytes: 4096,
    });
    assert.throws(
      () => cached.verify(signHs(claims())),
      (err) => err === bug,
    );
  });

  test('a token without exp is refused: its entry could never expire', () => {
    const { cached } = verifier();
    const { exp: _exp, ...noExp } = claims();
    rejects(() => cached.verify(signHs(noExp)), 'TOKEN_INVALID');
    assert.equal(cached.stats().size, 0);
  });
});

describe('time claims', () => {
  test('an entry never outlives exp and is deleted when found expired', () => {
    let clockMs = Date.now();
    const { cached, calls } = verifier({ now: () => clockMs });
    const payload = claims({ exp: nowS() + 60 });
    const token = signHs(payload);
    cached.verify(token);
    clockMs = payload.exp * 1000;
    cached.verify(token); // the last valid millisecond, as fast-jwt counts it
    assert.equal(cached.stats().hits, 1);
    clockMs = payload.exp * 1000 + 1;
    rejects(() => cached.verify(token), 'TOKEN_EXPIRED');
    assert.equal(cached.stats().size, 0, 'the expired entry was deleted');
    assert.equal(calls(), 1, 'expiry on a hit needs no crypto');
  });

  test('clockToleranceS extends exp by that much', () => {
    let clockMs = Date.now();
    const { cached } = verifier({ now: () => clockMs, clockToleranceS: 5 });
    const payload = claims({ exp: nowS() + 60 });
    const token = signHs(payload);
    cached.verify(token);
    clockMs = payload.exp * 1000 + 5_000;
    cached.verify(token);
    clockMs += 1;
    rejects(() => cached.verify(token), 'TOKEN_EXPIRED');
  });

  test('an entry is never served before nbf, and is served once nbf is reached', () => {
    const nbf = nowS();
    let clockMs = nbf * 1000;
    const { cached, calls } = verifier({ now: () => clockMs });
    const token = signHs(claims({ nbf }));
    cached.verify(token);
    clockMs = nbf * 1000 - 1; // the clock stepped back
    rejects(() => cached.verify(token), 'TOKEN_NOT_ACTIVE');
    assert.equal(cached.stats().size, 1, 'a not-yet-active entry is kept');
    clockMs = nbf * 1000;
    cached.verify(token);
    assert.equal(calls(), 1);
    assert.equal(cached.stats().hits, 1);
  });

  test('a token the uncached verifier accepts is still checked against our clock before caching', () => {
    const nbf = nowS() + 30;
    const lenient = createVerifier({ key: SECRET, algorithms: ['HS256'], cache: false, clockTolerance: 60_000 });
    const cached = createCachedVerifier({ verify: lenient, cacheSize: 10, maxTokenBytes: 4096 });
    rejects(() => cached.verify(signHs(claims({ nbf }))), 'TOKEN_NOT_ACTIVE');
    assert.equal(cached.stats().size, 0);
  });
});

describe('denylist', () => {
  test('isRevoked is checked on every call, hit or miss', () => {
    const revoked = new Set<string>();
    const { cached, calls } = verifier({ isRevoked: (claims) => revoked.has(claims.jti) });
    const payload = claims();
    const token = signHs(payload);
    cached.verify(token);
    cached.verify(token);
    revoked.add(payload.jti);
    rejects(() => cached.verify(token), 'TOKEN_REVOKED');
    assert.equal(cached.stats().size, 0, 'a revoked entry is dropped');
    rejects(() => cached.verify(token), 'TOKEN_REVOKED');
    assert.equal(cached.stats().size, 0, 'a revoked token is not cached on a miss');
    assert.equal(calls(), 2);
  });

  test('with a denylist, a token without jti is refused', () => {
    const { cached } = verifier({ isRevoked: () => false });
    const { jti: _jti, ...noJti } = claims();
    rejects(() => cached.verify(signHs(noJti)), 'TOKEN_INVALID');
  });
});
