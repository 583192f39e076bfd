import { Type } from 'typebox';
import { DateTime, Id, NullableString } from './common.js';

export const MemberResponse = Type.Object({
  id: Id,
  name: Type.String(),
  nickname: Type.String(),
  profileImage: NullableString,
  createdAt: DateTime,
});

export const MemberSummary = Type.Object({ id: Id, nickname: Type.String(), profileImage: NullableString });
