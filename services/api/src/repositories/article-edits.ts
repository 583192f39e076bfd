// Editing and deleting an article, by its author only. Deleting removes the article's likes and
// participations with it (ON DELETE CASCADE): a meetup that no longer exists has no participants.
import type { DbPool, TxConnection } from '../db/index.js';
import type { UpdateArticleInput } from '../schemas/article-edits.js';
import { referenceProblem, type ReferenceProblem } from './articles.js';

const LOCK_ARTICLE = `
  SELECT member_id, category_id, region_id, district_id, start_time, end_time
  FROM article WHERE id = ? FOR UPDATE`;
// One text for every edit: the route's merged values, or the row's own (COALESCE; for the image a
// flag, as null means "remove it").
const UPDATE_ARTICLE = `
  UPDATE article SET title = COALESCE(?, title), content = COALESCE(?, content),
    category_id = ?, region_id = ?, district_id = ?, start_time = ?, end_time = ?,
    article_image = IF(?, ?, article_image)
  WHERE id = ?`;
const DELETE_ARTICLE = 'DELETE FROM article WHERE id = ?';

/** Every statement of this repository, for the plan test. */
export const ARTICLE_EDITS_SQL = { lock: LOCK_ARTICLE, update: UPDATE_ARTICLE, delete: DELETE_ARTICLE } as const;

interface LockedRow {
  member_id: number;
  category_id: number;
  region_id: number;
  district_id: number;
  start_time: Date;
  end_time: Date;
}

export type EditProblem = 'ARTICLE_NOT_FOUND' | 'NOT_OWNER' | 'INVALID_TIME_RANGE' | ReferenceProblem;

/** The edit with startTime/endTime parsed by the route. */
export type ArticleEdit = Omit<UpdateArticleInput, 'startTime' | 'endTime'> & { startTime?: Date; endTime?: Date };

export function createArticleEditsRepository(db: DbPool) {
  async function lockOwned(conn: TxConnection, id: number, memberId: number) {
    const [row] = await conn.query<LockedRow[]>(LOCK_ARTICLE, [id]);
    if (!row) return 'ARTICLE_NOT_FOUND' as const;
    if (row.member_id !== memberId) return 'NOT_OWNER' as const;
    return row;
  }

  return {
    /** Applies the given fields in one transaction; a problem comes back instead when one is found. */
    update(id: number, memberId: number, edit: ArticleEdit): Promise<EditProblem | undefined> {
      return db.transaction(async (conn) => {
        const row = await lockOwned(conn, id, memberId);
        if (typeof row === 'string') return row;
        const startTime = edit.startTime ?? row.start_time;
        const endTime = edit.endTime ?? row.end_time;
        if (endTime.getTime() <= startTime.getTime()) return 'INVALID_TIME_RANGE';
        const place = {
          categoryId: edit.categoryId ?? row.category_id,
          regionId: edit.regionId ?? row.region_id,
          districtId: edit.districtId ?? row.district_id,
        };
        if (edit.categoryId !== undefined || edit.regionId !== undefined || edit.districtId !== undefined) {
          const problem = await referenceProblem(conn, place);
          if (problem) return problem;
        }
        await conn.query(UPDATE_ARTICLE, [
          edit.title ?? null,
          edit.content ?? null,
          place.categoryId,
          place.regionId,
          place.districtId,
          startTime,
          endTime,
          edit.articleImage !== undefined,
          edit.articleImage ?? null,
          id,
        ]);
        return undefined;
      });
    },

    remove(id: number, memberId: number): Promise<EditProblem | undefined> {
      return db.transaction(async (conn) => {
        const row = await lockOwned(conn, id, memberId);
        if (typeof row === 'string') return row;
        await conn.query(DELETE_ARTICLE, [id]);
        return undefined;
      });
    },
  };
}

export type ArticleEditsRepository = ReturnType<typeof createArticleEditsRepository>;
