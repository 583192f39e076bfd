// The auth hook: `Authorization: Bearer <token>` through the cached verifier; request.user on success,
// 401 with `WWW-Authenticate: Bearer` otherwise. Synchronous: no promise per request on the hot path.
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { unauthorized } from '../errors.js';
import { TokenError, type CachedVerifier } from './token-cache.js';

const MESSAGES: Readonly<Record<string, string>> = {
  TOKEN_MISSING: 'An access token is required.',
  TOKEN_TOO_LONG: 'The access token is too long.',
  TOKEN_INVALID: 'The access token is invalid.',
  TOKEN_EXPIRED: 'The access token has expired.',
  TOKEN_NOT_ACTIVE: 'The access token is not active yet.',
  TOKEN_REVOKED: 'The access token has been revoked.',
};

const BEARER = 'bearer';
const BEARER_PREFIX_LENGTH = 'Bearer '.length;
const SPACE = 32;
const ASCII_CASE_BIT = 0x20;

function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined || header.length <= BEARER_PREFIX_LENGTH) return undefined;
  // The scheme is case-insensitive (RFC 9110): compare char codes with the case bit set, no copies.
  // Setting the bit maps only 'B'/'b' (and so on) to the lowercase letter, so nothing else matches.
  for (let i = 0; i < BEARER.length; i++) {
    if ((header.charCodeAt(i) | ASCII_CASE_BIT) !== BEARER.charCodeAt(i)) return undefined;
  }
  if (header.charCodeAt(BEARER.length) !== SPACE) return undefined;
  return header.slice(BEARER_PREFIX_LENGTH).trim();
}

export function createAuthenticate(verifier: CachedVerifier) {
  return function authenticate(request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction) {
    const token = bearerToken(request.headers.authorization);
    if (token === undefined || token === '') return done(unauthorized(MESSAGES.TOKEN_MISSING!));
    try {
      const claims = verifier.verify(token);
      const id = Number(claims.sub);
      if (!Number.isSafeInteger(id) || id < 1) return done(unauthorized(MESSAGES.TOKEN_INVALID!));
      request.user = { id, jti: claims.jti, exp: claims.exp };
    } catch (err) {
      if (err instanceof TokenError) return done(unauthorized(MESSAGES[err.code] ?? MESSAGES.TOKEN_INVALID!));
      return done(err as Error);
    }
    done();
  };
}
