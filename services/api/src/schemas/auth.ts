import { Type } from 'typebox';
import { Id, Name } from './common.js';

export const Email = Type.String({ format: 'email', minLength: 3, maxLength: 255 });
// scrypt cost does not depend on length, but an upper bound stops megabyte "passwords".
export const Password = Type.String({ minLength: 8, maxLength: 128 });
export const RefreshToken = Type.String({ minLength: 1, maxLength: 128 });

export const SignUpBody = Type.Object({ email: Email, password: Password, name: Name, nickname: Name });

export const SignUpResponse = Type.Object({
  id: Id,
  email: Type.String(),
  name: Type.String(),
  nickname: Type.String(),
});

export const SignInBody = Type.Object({ email: Email, password: Type.String({ minLength: 1, maxLength: 128 }) });

export const RefreshBody = Type.Object({ refreshToken: RefreshToken });

export const SignOutBody = Type.Object({ refreshToken: Type.Optional(RefreshToken) });

export const TokenResponse = Type.Object({
  accessToken: Type.String(),
  refreshToken: Type.String(),
  tokenType: Type.Literal('Bearer'),
  expiresIn: Type.Integer({ description: 'Access token lifetime in seconds.' }),
});
