import { Type } from 'typebox';
import { DateTime, Id, NullableString, Page } from './common.js';

export const BlockBody = Type.Object({ blackedId: Id });

export const BlockedMember = Type.Object({
  blackedId: Id,
  nickname: Type.String(),
  profileImage: NullableString,
  createdAt: DateTime,
});

export const BlockPage = Page(BlockedMember);
