// Sign-up, sign-in, refresh-token rotation and sign-out.
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { hashPassword, verifyPassword } from '@mokakbab/db';
import { conflict, isDuplicateEntry, unauthorized } from '../../errors.js';
import { RefreshBody, SignInBody, SignOutBody, SignUpBody, SignUpResponse, TokenResponse } from '../../schemas/auth.js';
import { errors } from '../../schemas/common.js';

const WRONG_CREDENTIALS = 'The email or password is wrong.';
const BAD_REFRESH_TOKEN = 'The refresh token is invalid, expired or already used.';

const plugin: FastifyPluginAsyncTypebox = async (fastify) => {
  const { repos, config, denylist, authLimits, hashing } = fastify;
  const tags = ['auth'];
  const byEmail = (request: { body: unknown }) => (request.body as { email: string }).email;
  // Unknown emails are checked against this hash so they cost the same scrypt as a wrong password:
  // the response time does not tell which emails have accounts.
  const decoyHash = await hashPassword(randomUUID(), config.scryptCost);

  async function issueTokens(memberId: number, refreshToken?: string) {
    const accessToken = fastify.jwt.sign({ sub: String(memberId), jti: randomUUID() });
    return {
      accessToken,
      refreshToken: refreshToken ?? (await repos.refreshTokens.issue(memberId)),
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
      try {
        const id = await repos.members.create({ email, passwordHash, name, nickname });
        return reply.code(201).send({ id, email, name, nickname });
      } catch (err) {
        if (isDuplicateEntry(err)) throw conflict('EMAIL_TAKEN', 'This email is already registered.');
        throw err;
      }
    },
  );

  fastify.post(
    '/sign-in',
    {
      schema: { tags, body: SignInBody, response: { 200: TokenResponse, ...errors(400, 401, 429, 503) } },
      onRequest: authLimits.perAddress('sign-in'),
      preHandler: authLimits.perAccount('sign-in', byEmail),
    },
    async (request) => {
      const { email, password } = request.body;
      // The slot is taken before the lookup: busy or not does not depend on the email existing.
      const member = await hashing.run(async () => {
        const found = await repos.members.findCredentials(email);
        const ok = await verifyPassword(password, found?.passwordHash ?? decoyHash);
        return found && ok ? found : undefined;
      });
      if (!member) throw unauthorized(WRONG_CREDENTIALS);
      return issueTokens(member.id);
    },
  );

  fastify.post(
    '/access-token',
    {
      schema: { tags, body: RefreshBody, response: { 200: TokenResponse, ...errors(400, 401, 429, 503) } },
      onRequest: authLimits.perAddress('refresh'),
    },
    async (request) => {
      const rotated = await repos.refreshTokens.rotate(request.body.refreshToken);
      if (!rotated) throw unauthorized(BAD_REFRESH_TOKEN);
      return issueTokens(rotated.memberId, rotated.refreshToken);
    },
  );

  fastify.post(
    '/sign-out',
    {
      schema: { tags, security: [{ bearerAuth: [] }], body: SignOutBody, response: errors(400, 401, 503) },
      onRequest: fastify.authenticate,
      // The body is optional: no body at all means "revoke the access token only".
      preValidation: (request, _reply, done) => {
        request.body ??= {};
        done();
      },
    },
    async (request, reply) => {
      const { id, jti, exp } = request.user;
      const { refreshToken } = request.body;
      await denylist.revoke(jti, id, new Date(exp * 1000));
      if (refreshToken !== undefined) await repos.refreshTokens.revoke(refreshToken, id);
      return reply.code(204).send();
    },
  );
};

export default plugin;
