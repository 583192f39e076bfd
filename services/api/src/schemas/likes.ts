import { Type } from 'typebox';

export const LikeResponse = Type.Object({
  liked: Type.Boolean({ description: 'Whether the caller likes the article after this toggle.' }),
  likeCount: Type.Integer({ minimum: 0 }),
});
