// Access-token verification: the cached verifier (auth/token-cache.ts) over @fastify/jwt, the
// denylist (sign-out by jti, member-wide revocation), and `fastify.authenticate`, the onRequest hook
// a route group installs with requireSignIn (routes/signed-in.ts).
import fp from 'fastify-plugin';
import type { onRequestHookHandler } from 'fastify';
import { createAuthenticate } from '../../auth/authenticate.js';
import { Denylist } from '../../auth/denylist.js';
import { createCachedVerifier, type AccessClaims, type CachedVerifier } from '../../auth/token-cache.js';

declare module 'fastify' {
  interface FastifyInstance {
    tokenVerifier: CachedVerifier;
    denylist: Denylist;
    authenticate: onRequestHookHandler;
  }
}

export default fp(
  async function authPlugin(fastify) {
    const { config, db } = fastify;
    const denylist = new Denylist({
      db,
      logger: fastify.log.child({ component: 'denylist' }),
      accessTokenTtlS: config.accessTokenTtlS,
      maxEntries: config.denylistMaxEntries,
      maxSignOutsPerMember: config.maxSessionsPerMember,
    });
    const verifier = createCachedVerifier({
      verify: (token) => fastify.jwt.verify<AccessClaims>(token),
      cacheSize: config.jwtCacheSize,
      maxTokenBytes: config.jwtMaxTokenBytes,
      isRevoked: (claims) => denylist.isRevoked(claims),
    });
    fastify.decorate('denylist', denylist);
    fastify.decorate('tokenVerifier', verifier);
    fastify.decorate('authenticate', createAuthenticate(verifier));
    // onClose hooks run last-registered first: polling stops before the pool it uses closes.
    fastify.addHook('onClose', async () => denylist.stop());
  },
  { name: 'auth', dependencies: ['db', 'jwt'] },
);
