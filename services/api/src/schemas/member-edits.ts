import { Type } from 'typebox';
import { Password } from './auth.js';
import { Name } from './common.js';

export const UpdateMemberBody = Type.Object(
  { name: Type.Optional(Name), nickname: Type.Optional(Name), password: Type.Optional(Password) },
  { minProperties: 1 },
);
