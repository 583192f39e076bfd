// POST /auth/verify-email: the code of the sign-up mail sets the member's isEmailVerified.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { HttpError } from '../../errors.js';
import { badRequest, conflict } from '../../errors.js';
import type { VerifyResult } from '../../repositories/verification.js';
import { errors } from '../../schemas/common.js';
import { VerifyEmailBody, VerifyEmailResponse } from '../../schemas/verification.js';

const FAILURES: Readonly<Record<Exclude<VerifyResult, 'VERIFIED'>, () => HttpError>> = {
  WRONG_CODE: () => badRequest('WRONG_CODE', 'The email or verification code is wrong.'),
  CODE_EXPIRED: () => badRequest('CODE_EXPIRED', 'The verification code has expired.'),
  TOO_MANY_ATTEMPTS: () => badRequest('TOO_MANY_ATTEMPTS', 'Too many wrong codes: this code no longer works.'),
  ALREADY_VERIFIED: () => conflict('ALREADY_VERIFIED', 'This email is already verified.'),
};

const plugin: FastifyPluginAsyncTypebox = async (fastify) => {
  const { repos, authLimits } = fastify;
  const { verification } = repos;

  fastify.post(
    '/verify-email',
    {
      schema: {
        tags: ['auth'],
        body: VerifyEmailBody,
        response: { 200: VerifyEmailResponse, ...errors(400, 409, 413, 415, 429, 503) },
      },
      // Codes are also counted per code; these limits keep one client from trying many emails.
      onRequest: authLimits.perAddress('verify-email'),
      preHandler: authLimits.perAccount('verify-email', (request) => (request.body as { email: string }).email),
    },
    async (request) => {
      const { email, verificationCode } = request.body;
      const result = await verification.verify(email, verificationCode);
      if (result !== 'VERIFIED') throw FAILURES[result]();
      return { email, isEmailVerified: true as const };
    },
  );
};

export default plugin;
