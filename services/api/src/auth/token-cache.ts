// Cached access-token verification: the signature is checked once per token, then every later
// request pays a Map lookup plus the time-claim and denylist checks. fast-jwt's own cache is not
// used because it also stores failures, so a flood of forged tokens would evict the valid ones.
import { hash } from 'node:crypto';
import { deepFreeze } from './token-cache-freeze.js';
import { LruMap } from './token-cache-lru.js';

export interface AccessClaims {
  sub: string;
  jti: string;
  iat: number;
  exp: number;
  nbf?: number;
  [k: string]: unknown;
}

export type TokenErrorCode =
  'TOKEN_MISSING' | 'TOKEN_TOO_LONG' | 'TOKEN_INVALID' | 'TOKEN_EXPIRED' | 'TOKEN_NOT_ACTIVE' | 'TOKEN_REVOKED';

export class TokenError extends Error {
  override readonly name = 'TokenError';
  constructor(
    readonly code: TokenErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export interface CachedVerifierOptions {
  /** The uncached verifier (fastify.jwt.verify over fast-jwt with its cache off); may throw fast-jwt TokenErrors. */
  verify: (token: string) => AccessClaims;
  /** Entries kept; 0 disables the cache so every call verifies. */
  cacheSize: number;
  /** Longer tokens are rejected before any work. */
  maxTokenBytes: number;
  /** The denylist (by jti or by member and iat), checked on every call, hit or miss. */
  isRevoked?: (claims: Readonly<AccessClaims>) => boolean;
  /** Clock in ms, for tests. */
  now?: () => number;
  clockToleranceS?: number;
}

export interface CacheStats {
  hits: number;
  misses: number;
  size: number;
}

export interface CachedVerifier {
  verify: (token: string) => Readonly<AccessClaims>;
  stats: () => CacheStats;
}

interface Entry {
  readonly claims: Readonly<AccessClaims>;
  readonly notBeforeMs: number;
  readonly expiresAtMs: number;
}

const FAST_JWT_CODES: Readonly<Record<string, TokenErrorCode>> = {
  FAST_JWT_EXPIRED: 'TOKEN_EXPIRED',
  FAST_JWT_INACTIVE: 'TOKEN_NOT_ACTIVE',
};

function fromVerifyError(err: unknown): TokenError {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('FAST_JWT_')) throw err;
  const mapped = FAST_JWT_CODES[code] ?? 'TOKEN_INVALID';
  return new TokenError(mapped, (err as Error).message, { cause: err });
}

/** The cache key of a token: SHA-256 of all of it, base64 (one-shot crypto.hash, no Hash object). */
export function cacheKey(token: string): string {
  return hash('sha256', token, 'base64');
}

export function createCachedVerifier(opts: CachedVerifierOptions): CachedVerifier {
  const { verify, cacheSize, maxTokenBytes, isRevoked } = opts;
  const now = opts.now ?? Date.now;
  const toleranceMs = (opts.clockToleranceS ?? 0) * 1000;
  // Keyed by a SHA-256 digest of the whole token (header, payload and signature), as the spec asks:
  // 44 bytes a key however long the token, and no collision can serve another token's claims.
  // Only verified tokens are inserted, so the key set is never chosen by an attacker.
  const cache = cacheSize > 0 ? new LruMap<string, Entry>(cacheSize) : undefined;
  let hits = 0;
  let misses = 0;

  // The same bounds fast-jwt applies (exp inclusive, nbf inclusive), against our clock, on both paths.
  function timeError(entry: Entry, nowMs: number): TokenError | undefined {
    if (nowMs > entry.expiresAtMs) return new TokenError('TOKEN_EXPIRED', 'The token has expired.');
    if (nowMs < entry.notBeforeMs) return new TokenError('TOKEN_NOT_ACTIVE', 'The token is not active yet.');
    return undefined;
  }

  const revokedError = (): TokenError => new TokenError('TOKEN_REVOKED', 'The token has been revoked.');

  function verifyUncached(token: string): Entry {
    let claims: AccessClaims;
    try {
      claims = verify(token);
    } catch (err) {
      throw fromVerifyError(err);
    }
    // Without exp an entry could live forever; without jti the token could not be revoked.
    if (typeof claims.exp !== 'number' || !Number.isFinite(claims.exp)) {
      throw new TokenError('TOKEN_INVALID', 'The token has no exp claim.');
    }
    if (isRevoked && (typeof claims.jti !== 'string' || claims.jti === '')) {
      throw new TokenError('TOKEN_INVALID', 'The token has no jti claim.');
    }
    const nbf = typeof claims.nbf === 'number' ? claims.nbf : 0;
    return {
      claims: deepFreeze(claims),
      notBeforeMs: nbf * 1000 - toleranceMs,
      expiresAtMs: claims.exp * 1000 + toleranceMs,
    };
  }

  return {
    verify(token: string): Readonly<AccessClaims> {
      if (typeof token !== 'string' || token === '') throw new TokenError('TOKEN_MISSING', 'No token.');
      // Header values reach us latin1-decoded, one character per byte on the wire.
      if (token.length > maxTokenBytes) throw new TokenError('TOKEN_TOO_LONG', 'The token is too long.');
      const nowMs = now();
      const key = cache === undefined ? '' : cacheKey(token);
      const cached = cache?.get(key);
      if (cached) {
        const timeFailure = timeError(cached, nowMs);
        if (timeFailure) {
          // Expired entries never become valid again; a not-yet-active one will.
          if (timeFailure.code === 'TOKEN_EXPIRED') cache!.delete(key);
          throw timeFailure;
        }
        if (isRevoked?.(cached.claims)) {
          cache!.delete(key);
          throw revokedError();
        }
        hits++;
        return cached.claims;
      }
      misses++;
      const entry = verifyUncached(token);
      const timeFailure = timeError(entry, nowMs);
      if (timeFailure) throw timeFailure;
      if (isRevoked?.(entry.claims)) throw revokedError();
      cache?.set(key, entry);
      return entry.claims;
    },
    stats: () => ({ hits, misses, size: cache?.size ?? 0 }),
  };
}
