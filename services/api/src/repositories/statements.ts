// Every SQL statement the API runs, by name. Each repository keeps its statements beside the code
// that maps their rows (readable in place); this one registry lets test/plans.test.ts prove that
// every statement has a plan check, so a statement added without one fails the test.
import { DENYLIST_SQL } from '../auth/denylist.js';
import { ARTICLE_EDITS_SQL } from './article-edits.js';
import { ARTICLES_SQL } from './articles.js';
import { BLOCKS_SQL } from './blocks.js';
import { LIKES_SQL } from './likes.js';
import { MEMBER_EDITS_SQL } from './member-edits.js';
import { MEMBERS_SQL } from './members.js';
import { MY_PARTICIPATIONS_SQL } from './my-participations.js';
import { PARTICIPATIONS_SQL } from './participations.js';
import { REFRESH_TOKENS_SQL } from './refresh-tokens.js';
import { VERIFICATION_SQL } from './verification.js';

const groups = {
  articles: ARTICLES_SQL,
  members: MEMBERS_SQL,
  participations: PARTICIPATIONS_SQL,
  refreshTokens: REFRESH_TOKENS_SQL,
  denylist: DENYLIST_SQL,
  likes: LIKES_SQL,
  articleEdits: ARTICLE_EDITS_SQL,
  memberEdits: MEMBER_EDITS_SQL,
  myParticipations: MY_PARTICIPATIONS_SQL,
  blocks: BLOCKS_SQL,
  verification: VERIFICATION_SQL,
} as const;

type Groups = typeof groups;
export type StatementName = { [G in keyof Groups]: `${G}.${Extract<keyof Groups[G], string>}` }[keyof Groups];

export const STATEMENTS: Readonly<Record<StatementName, string>> = Object.fromEntries(
  Object.entries(groups).flatMap(([group, sqls]) =>
    Object.entries(sqls).map(([name, sql]) => [`${group}.${name}`, sql] as const),
  ),
) as Record<StatementName, string>;
