import { Type } from 'typebox';
import { DateTime, Id, NullableInteger, NullableString } from './common.js';

export const BlockBody = Type.Object({ blackedId: Id });

export const BlockedMember = Type.Object({
  blackedId: Id,
  nickname: Type.String(),
  profileImage: NullableString,
  createdAt: DateTime,
});

export const BlockPage = Type.Object({
  items: Type.Array(BlockedMember),
  nextCursor: NullableInteger,
});
