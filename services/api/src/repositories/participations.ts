// Participations: the paged list of an article's ACTIVE participants (the hot path of the load
// tests), joining once, and cancelling.
import { isDuplicateEntry, missingReference, type DbPool } from '../db/index.js';
import type { ParticipantView, ParticipationView } from '../schemas/participations.js';
import { FIRST_PAGE_CURSOR } from './paging.js';
import { blockedFlag, visiblePage, windowRows, type FlaggedRow } from './viewer-paging.js';

const PARTICIPANT_SELECT = `
  SELECT p.id, p.status, p.created_at, m.id AS member_id, m.nickname, m.profile_image`;
const PARTICIPANT_FROM = `
  FROM participation p FORCE INDEX (ix_participation_status_article)
    JOIN member m ON m.id = p.member_id
  WHERE p.status = 'ACTIVE' AND p.article_id = ? AND p.id < ?
  ORDER BY p.id DESC
  LIMIT ?`;

/** Every statement of this repository, run as they are by the routes and by test/plans.test.ts. */
export const PARTICIPATIONS_SQL = {
  // WHERE status = 'ACTIVE' AND article_id = ? AND id < ? ORDER BY id DESC is one backward range scan of
  // ix_participation_status_article (InnoDB appends the primary key to every secondary index).
  /** Members the viewer blocked are flagged. Params: viewer id, article id, cursor, window rows. */
  participantsPage: `${PARTICIPANT_SELECT}, ${blockedFlag('p.member_id')}${PARTICIPANT_FROM}`,
  insert: 'INSERT INTO participation (article_id, member_id) VALUES (?, ?)',
  // A member who cancelled may join again: the unique (article_id, member_id) row comes back to life.
  // Forced: MariaDB may otherwise take the (status, article_id) range, every cancellation of the article.
  reactivate: `UPDATE participation FORCE INDEX (uq_participation_article_member) SET status = 'ACTIVE'
  WHERE article_id = ? AND member_id = ? AND status = 'CANCELLED'`,
  idByPair: 'SELECT id FROM participation WHERE article_id = ? AND member_id = ?',
  byId: 'SELECT id, article_id, member_id, status FROM participation WHERE id = ?',
  cancel: `UPDATE participation SET status = 'CANCELLED' WHERE id = ?`,
} as const;

interface ParticipantRow {
  id: number;
  status: 'ACTIVE' | 'CANCELLED';
  created_at: Date;
  member_id: number;
  nickname: string;
  profile_image: string | null;
}

interface ParticipationRow {
  id: number;
  article_id: number;
  member_id: number;
  status: 'ACTIVE' | 'CANCELLED';
}

export type JoinResult = ParticipationView | 'ALREADY_JOINED' | 'ARTICLE_NOT_FOUND';

export function createParticipationsRepository(db: DbPool) {
  return {
    /** ACTIVE participants newest first, without the members `viewerId` blocked (see viewer-paging.ts). */
    async page(
      articleId: number,
      viewerId: number,
      cursor: number | undefined,
      limit: number,
    ): Promise<{ items: ParticipantView[]; nextCursor: number | null }> {
      const rows = await db.read<(ParticipantRow & FlaggedRow)[]>(PARTICIPATIONS_SQL.participantsPage, [
        viewerId,
        articleId,
        cursor ?? FIRST_PAGE_CURSOR,
        windowRows(limit),
      ]);
      const page = visiblePage(rows, limit);
      const items = page.rows.map((row) => ({
        id: row.id,
        status: row.status,
        createdAt: row.created_at.toISOString(),
        member: { id: row.member_id, nickname: row.nickname, profileImage: row.profile_image },
      }));
      return { items, nextCursor: page.nextCursor };
    },

    /** A deleted member (fk_participation_member) still throws: the error handler's 401. */
    async join(articleId: number, memberId: number): Promise<JoinResult> {
      try {
        const result = await db.query<{ insertId: number }>(PARTICIPATIONS_SQL.insert, [articleId, memberId]);
        return { id: result.insertId, articleId, memberId, status: 'ACTIVE' };
      } catch (err) {
        if (missingReference(err) === 'fk_participation_article') return 'ARTICLE_NOT_FOUND';
        if (!isDuplicateEntry(err)) throw err;
      }
      const updated = await db.query<{ affectedRows: number }>(PARTICIPATIONS_SQL.reactivate, [articleId, memberId]);
      if (updated.affectedRows === 0) return 'ALREADY_JOINED';
      const [row] = await db.query<{ id: number }[]>(PARTICIPATIONS_SQL.idByPair, [articleId, memberId]);
      return { id: row!.id, articleId, memberId, status: 'ACTIVE' };
    },

    async findById(id: number): Promise<ParticipationView | undefined> {
      const [row] = await db.read<ParticipationRow[]>(PARTICIPATIONS_SQL.byId, [id]);
      return row && { id: row.id, articleId: row.article_id, memberId: row.member_id, status: row.status };
    },

    async cancel(id: number): Promise<void> {
      await db.query(PARTICIPATIONS_SQL.cancel, [id]);
    },
  };
}

export type ParticipationsRepository = ReturnType<typeof createParticipationsRepository>;
