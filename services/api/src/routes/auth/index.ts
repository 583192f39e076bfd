// Sign-up, sign-in, refresh-token rotation and sign-out.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { hashPassword, verifyPassword } from '@mokakbab/db';
import { VerifyTimes } from '../../auth/hashing-gate.js';
import { newTokenId } from '../../auth/token-id.js';
import { basicCredentials, schemeToken } from '../../auth/wire-forms.js';
import { conflict, unauthorized } from '../../errors.js';
import type { Session } from '../../repositories/refresh-tokens.js';
import { RefreshBody, SignInBody, SignOutBody, SignUpBody, SignUpResponse, TokenResponse } from '../../schemas/auth.js';
import { errors } from '../../schemas/common.js';
import { requireSignIn } from '../signed-in.js';

const WRONG_CREDENTIALS = 'The email or password is wrong.';
const BAD_REFRESH_TOKEN = 'The refresh token is invalid, expired or already used.';

const plugin: FastifyPluginAsyncTypebox = async (fastify) => {
  const { repos, config, denylist, authLimits, hashing } = fastify;
  const tags = ['auth'];
  const byEmail = (request: { body: unknown }) => (request.body as { email: string }).email;
  // Unknown emails wait as long as a verification takes (VerifyTimes). Until a sign-in has been
  // timed, as long as this one took (after a first hash, which pays the first run's costs).
  const startupHash = await hashPassword(randomUUID(), config.scryptCost);
  const verifyStartedAt = performance.now();
  await verifyPassword(randomUUID(), startupHash);
  const verifyTimes = new VerifyTimes(performance.now() - verifyStartedAt);

  async function issueTokens(memberId: number, rotated?: Session) {
    const session = rotated ?? (await repos.refreshTokens.issue(memberId));
    const accessToken = fastify.jwt.sign({ sub: String(memberId), jti: newTokenId(), sid: String(session.sessionId) });
    return {
      accessToken,
      refreshToken: session.refreshToken,
      tokenType: 'Bearer' as const,
      expiresIn: config.accessTokenTtlS,
    };
  }

  fastify.post(
    '/sign-up',
    {
      schema: { tags, body: SignUpBody, response: { 201: SignUpResponse, ...errors(400, 409, 413, 415, 429, 503) } },
      onRequest: authLimits.perAddress('sign-up'),
      preHandler: authLimits.perAccount('sign-up', byEmail),
    },
    async (request, reply) => {
      const { email, password, name, nickname } = request.body;
      const passwordHash = await hashing.run(() => hashPassword(password, config.scryptCost));
      const created = await repos.verification.signUp({ email, passwordHash, name, nickname });
      if (created === 'EMAIL_TAKEN') throw conflict(created, 'This email is already registered.');
      // Sent after the answer: a slow mail server must not hold the sign-up (or a pool connection).
      fastify.mailer
        .sendVerificationCode(email, created.code)
        .catch((err: unknown) => request.log.warn({ err }, 'verification mail not sent'));
      return reply.code(201).send({ id: created.id, email, name, nickname });
    },
  );

  fastify.post(
    '/sign-in',
    {
      schema: { tags, body: SignInBody, response: { 200: TokenResponse, ...errors(400, 401, 429, 503) } },
      onRequest: authLimits.perAddress('sign-in'),
      // The original's form: no body, `Authorization: Basic base64(email:password)`.
      preValidation: (request, _reply, done) => {
        const { authorization } = request.headers;
        if (request.body !== undefined || authorization === undefined) return done();
        const credentials = basicCredentials(authorization);
        if (!credentials) return done(unauthorized('The Authorization header is not Basic base64(email:password).'));
        request.body = credentials;
        done();
      },
      preHandler: authLimits.perAccount('sign-in', byEmail),
    },
    async (request) => {
      const { email, password } = request.body;
      // A full cap answers the same 503 whatever the email, before any database work.
      hashing.refuseIfFull();
      const found = await repos.members.findCredentials(email);
      if (!found) {
        // The check a known account meets at the gate after its lookup: full or not reads the same.
        hashing.refuseIfFull();
        // No hash, no hashing slot, no connection (released by now): only a timer, so a flood of
        // guessed emails cannot crowd real users out of the cap, and still takes a verify's time.
        await sleep(verifyTimes.sampleMs());
        throw unauthorized(WRONG_CREDENTIALS);
      }
      const ok = await hashing.run(async () => {
        const startedAt = performance.now();
        const verified = await verifyPassword(password, found.passwordHash);
        verifyTimes.record(performance.now() - startedAt);
        return verified;
      });
      if (!ok) throw unauthorized(WRONG_CREDENTIALS);
      return issueTokens(found.id);
    },
  );

  fastify.post(
    '/access-token',
    {
      schema: { tags, body: RefreshBody, response: { 200: TokenResponse, ...errors(400, 401, 429, 503) } },
      onRequest: authLimits.perAddress('refresh'),
      // The original's form: no body, the refresh token as `Authorization: Bearer <refreshToken>`.
      preValidation: (request, _reply, done) => {
        const refreshToken = schemeToken(request.headers.authorization, 'bearer');
        if (request.body === undefined && refreshToken !== undefined) request.body = { refreshToken };
        done();
      },
    },
    async (request) => {
      const rotated = await repos.refreshTokens.rotate(request.body.refreshToken);
      if (!rotated) throw unauthorized(BAD_REFRESH_TOKEN);
      return issueTokens(rotated.memberId, rotated);
    },
  );

  await fastify.register(async (scope) => {
    const signedIn = requireSignIn(scope);
    signedIn.post(
      '/sign-out',
      {
        schema: { tags, body: SignOutBody, response: errors(400, 401, 503) },
        // The body is optional: without one, the session of the access token ends (its refresh token too).
        preValidation: (request, _reply, done) => {
          request.body ??= {};
          done();
        },
      },
      async (request, reply) => {
        const { id, jti, exp } = request.user;
        const { refreshToken } = request.body;
        await denylist.revoke(jti, id, new Date(exp * 1000));
        if (refreshToken !== undefined) {
          await repos.refreshTokens.revoke(refreshToken, id);
        } else {
          // Verified by the auth hook already; decoding only reads the session id back.
          const sid = fastify.jwt.decode<{ sid?: string }>(schemeToken(request.headers.authorization, 'bearer')!)?.sid;
          if (sid !== undefined && /^\d+$/.test(sid)) await repos.refreshTokens.revokeSession(Number(sid), id);
        }
        return reply.code(204).send();
      },
    );
  });
};

export default plugin;
