// Access tokens minted by the app's own signer, for tests that need many members at once without
// paying a sign-in (scrypt) for each.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';

export function accessTokenFor(app: FastifyInstance, memberId: number): string {
  return app.jwt.sign({ sub: String(memberId), jti: randomUUID() });
}
