// Likes: one article_like row per (member, article) and article.like_count changed in the same
// transaction, so the count always equals the rows.
import type { DbPool } from '../db/index.js';

// Locking the article row first serializes the toggles of one article: without it two transactions
// that both inserted (each holding the FK's shared lock on the article) deadlock on the UPDATE.
const LOCK_ARTICLE = 'SELECT like_count FROM article WHERE id = ? FOR UPDATE';
const SELECT_LIKE = 'SELECT 1 AS found FROM article_like WHERE member_id = ? AND article_id = ?';
const INSERT_LIKE = 'INSERT INTO article_like (member_id, article_id) VALUES (?, ?)';
const DELETE_LIKE = 'DELETE FROM article_like WHERE member_id = ? AND article_id = ?';
const ADD_TO_COUNT = 'UPDATE article SET like_count = like_count + ? WHERE id = ?';

/** Every statement of this repository, for the plan test. */
export const LIKES_SQL = {
  lockArticle: LOCK_ARTICLE,
  selectLike: SELECT_LIKE,
  insertLike: INSERT_LIKE,
  deleteLike: DELETE_LIKE,
  addToCount: ADD_TO_COUNT,
} as const;

export interface LikeState {
  liked: boolean;
  likeCount: number;
}

export function createLikesRepository(db: DbPool) {
  return {
    /** Likes or unlikes; undefined when the article does not exist. A deleted member's FK error propagates. */
    toggle(articleId: number, memberId: number): Promise<LikeState | undefined> {
      return db.transaction(async (conn) => {
        const [article] = await conn.query<{ like_count: number }[]>(LOCK_ARTICLE, [articleId]);
        if (!article) return undefined;
        const existing = await conn.query<unknown[]>(SELECT_LIKE, [memberId, articleId]);
        const liked = existing.length === 0;
        await conn.query(liked ? INSERT_LIKE : DELETE_LIKE, [memberId, articleId]);
        const delta = liked ? 1 : -1;
        await conn.query(ADD_TO_COUNT, [delta, articleId]);
        return { liked, likeCount: article.like_count + delta };
      });
    },
  };
}

export type LikesRepository = ReturnType<typeof createLikesRepository>;
