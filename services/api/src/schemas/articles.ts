import { Type, type Static } from 'typebox';
import { DateTime, Id, NullableString, Page } from './common.js';
import { ImageLocation } from './images.js';
import { MemberSummary } from './members.js';

const Named = Type.Object({ id: Id, name: Type.String() });

export const Article = Type.Object({
  id: Id,
  title: Type.String(),
  content: Type.String(),
  startTime: DateTime,
  endTime: DateTime,
  articleImage: NullableString,
  likeCount: Type.Integer(),
  createdAt: DateTime,
  participantCount: Type.Integer(),
  author: MemberSummary,
  category: Named,
  region: Named,
  district: Named,
});

export type ArticleView = Static<typeof Article>;

export const ArticlePage = Page(Article);

export const CreateArticleBody = Type.Object({
  title: Type.String({ minLength: 1, maxLength: 100 }),
  content: Type.String({ minLength: 1, maxLength: 10_000 }),
  categoryId: Id,
  regionId: Id,
  districtId: Id,
  startTime: DateTime,
  endTime: DateTime,
  articleImage: Type.Optional(ImageLocation),
});

export type CreateArticleInput = Static<typeof CreateArticleBody>;
