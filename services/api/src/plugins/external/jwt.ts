// @fastify/jwt signs access tokens and provides the uncached verifier behind our token cache.
// fast-jwt's own cache stays off: it also caches failures, so forged tokens would evict good ones.
import fastifyJwt from '@fastify/jwt';
import fp from 'fastify-plugin';

declare module '@fastify/jwt' {
  interface FastifyJWT {
    /** `sid`: the refresh token row of the session, so a sign-out without a body can end it. */
    payload: { sub: string; jti: string; sid?: string };
    user: { id: number; jti: string; exp: number };
  }
}

export default fp(
  async function jwtPlugin(fastify) {
    const { jwtAlgorithm, jwtSecret, jwtPrivateKey, jwtPublicKey, accessTokenTtlS } = fastify.config;
    const secret = jwtAlgorithm.startsWith('HS') ? jwtSecret! : { private: jwtPrivateKey!, public: jwtPublicKey! };
    await fastify.register(fastifyJwt, {
      secret,
      sign: { algorithm: jwtAlgorithm, expiresIn: accessTokenTtlS },
      verify: { algorithms: [jwtAlgorithm], cache: false, requiredClaims: ['sub', 'jti', 'exp'] },
    });
  },
  { name: 'jwt', dependencies: ['config'] },
);
