import { Type, type Static } from 'typebox';
import { DateTime, Id, Page, idParams } from './common.js';
import { MemberSummary } from './members.js';

export const ParticipationStatus = Type.Union([Type.Literal('ACTIVE'), Type.Literal('CANCELLED')]);

export const ArticleIdParams = idParams('articleId');

export const ParticipantItem = Type.Object({
  id: Id,
  status: ParticipationStatus,
  createdAt: DateTime,
  member: MemberSummary,
});

export type ParticipantView = Static<typeof ParticipantItem>;

export const ParticipantPage = Page(ParticipantItem);

export const JoinBody = Type.Object({ articleId: Id });

export const Participation = Type.Object({
  id: Id,
  articleId: Id,
  memberId: Id,
  status: ParticipationStatus,
});

export type ParticipationView = Static<typeof Participation>;
