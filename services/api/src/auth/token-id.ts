// Access-token ids (jti): UUIDv7 (RFC 9562), whose first 48 bits are the issue time in ms. A member
// revocation compares issue times to the millisecond this way; `iat` has whole seconds only, which
// would refuse a token issued just after the revocation in the same second.
import { randomBytes } from 'node:crypto';

const ID_BYTES = 16;
const TIME_BYTES = 6;
const MS_PER_S = 1_000;

export function newTokenId(nowMs = Date.now()): string {
  const bytes = randomBytes(ID_BYTES);
  bytes.writeUIntBE(nowMs, 0, TIME_BYTES);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70; // version 7
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // RFC 9562 variant
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * When the token was issued, in ms: the time in a v7 jti when it lies within the `iat` second,
 * otherwise the start of that second (the earliest it can have been issued, so a check errs on the
 * safe side).
 */
export function issuedAtMs(jti: string, iatS: number | undefined): number {
  const secondStartMs = (iatS ?? 0) * MS_PER_S;
  if (jti.length !== 36 || jti[14] !== '7') return secondStartMs;
  const ms = Number.parseInt(jti.slice(0, 8) + jti.slice(9, 13), 16);
  return ms >= secondStartMs && ms < secondStartMs + MS_PER_S ? ms : secondStartMs;
}
