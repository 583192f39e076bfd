import { Type } from 'typebox';
import { Email } from './auth.js';

export const VerifyEmailBody = Type.Object({
  email: Email,
  verificationCode: Type.String({ pattern: '^[0-9]{6}$', description: 'The six digits of the sign-up mail.' }),
});

export const VerifyEmailResponse = Type.Object({ email: Type.String(), isEmailVerified: Type.Literal(true) });
