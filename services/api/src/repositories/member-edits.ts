// A member changing or deleting their own account. Deleting removes the member's articles (with
// their likes and participations), and the member's likes, participations, blocks and tokens; the
// like counts of the articles the member liked drop in the same transaction.
import type { DbPool } from '../db/index.js';
import { revokeAllTokensOfMember } from './members.js';

const LOCK_MEMBER = 'SELECT id FROM member WHERE id = ? FOR UPDATE';
// article_like's primary key starts with member_id: a ref range, then one eq_ref per liked article.
const UNCOUNT_LIKES = `
  UPDATE article a JOIN article_like l ON l.article_id = a.id
  SET a.like_count = a.like_count - 1
  WHERE l.member_id = ?`;
const DELETE_ARTICLES = 'DELETE FROM article WHERE member_id = ?';
const DELETE_MEMBER = 'DELETE FROM member WHERE id = ?';
// One text for every edit: a NULL keeps the column as it is.
const UPDATE_MEMBER = `
  UPDATE member SET name = COALESCE(?, name), nickname = COALESCE(?, nickname),
    password_hash = COALESCE(?, password_hash), profile_image = COALESCE(?, profile_image)
  WHERE id = ?`;

/** Every statement of this repository, for the plan test. */
export const MEMBER_EDITS_SQL = {
  lockMember: LOCK_MEMBER,
  uncountLikes: UNCOUNT_LIKES,
  deleteArticles: DELETE_ARTICLES,
  deleteMember: DELETE_MEMBER,
  update: UPDATE_MEMBER,
} as const;

export interface MemberChanges {
  name?: string;
  nickname?: string;
  passwordHash?: string;
  profileImage?: string;
}

export function createMemberEditsRepository(db: DbPool) {
  return {
    /**
     * Applies the changes; false when the member does not exist. A new password ends every session
     * of the member in the same transaction: refresh tokens and live access tokens, fleet-wide.
     */
    update(id: number, changes: MemberChanges): Promise<boolean> {
      return db.transaction(async (conn) => {
        const [row] = await conn.query<unknown[]>(LOCK_MEMBER, [id]);
        if (!row) return false;
        await conn.query(UPDATE_MEMBER, [
          changes.name ?? null,
          changes.nickname ?? null,
          changes.passwordHash ?? null,
          changes.profileImage ?? null,
          id,
        ]);
        if (changes.passwordHash !== undefined) await revokeAllTokensOfMember(conn, id);
        return true;
      });
    },

    /** Deletes the member and everything that belongs to them, tokens first; false when there is no such member. */
    remove(id: number): Promise<boolean> {
      return db.transaction(async (conn) => {
        const [row] = await conn.query<unknown[]>(LOCK_MEMBER, [id]);
        if (!row) return false;
        await conn.query(UNCOUNT_LIKES, [id]);
        await conn.query(DELETE_ARTICLES, [id]);
        await revokeAllTokensOfMember(conn, id);
        await conn.query(DELETE_MEMBER, [id]);
        return true;
      });
    },
  };
}

export type MemberEditsRepository = ReturnType<typeof createMemberEditsRepository>;
