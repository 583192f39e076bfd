// The caller's own participations: the paged list of ACTIVE ones and one by id.
import type { DbPool } from '../db/index.js';
import type { MyParticipationView } from '../schemas/my-participations.js';
import { FIRST_PAGE_CURSOR } from './paging.js';

const COLUMNS = `
  SELECT p.id, p.article_id, p.member_id, p.status, p.created_at, a.title, a.start_time, a.end_time
  FROM participation p JOIN article a ON a.id = p.article_id`;
// One backward range of ix_participation_member_status (member_id, status, id), stopped by the LIMIT.
const SELECT_PAGE = `${COLUMNS}
  WHERE p.member_id = ? AND p.status = 'ACTIVE' AND p.id < ?
  ORDER BY p.id DESC
  LIMIT ?`;
const SELECT_ONE = `${COLUMNS} WHERE p.id = ? AND p.member_id = ?`;

/** Every statement of this repository, for the plan test. */
export const MY_PARTICIPATIONS_SQL = { page: SELECT_PAGE, own: SELECT_ONE } as const;

interface Row {
  id: number;
  article_id: number;
  member_id: number;
  status: 'ACTIVE' | 'CANCELLED';
  created_at: Date;
  title: string;
  start_time: Date;
  end_time: Date;
}

function toView(row: Row): MyParticipationView {
  return {
    id: row.id,
    articleId: row.article_id,
    memberId: row.member_id,
    status: row.status,
    createdAt: row.created_at.toISOString(),
    article: {
      id: row.article_id,
      title: row.title,
      startTime: row.start_time.toISOString(),
      endTime: row.end_time.toISOString(),
    },
  };
}

export function createMyParticipationsRepository(db: DbPool) {
  return {
    async page(memberId: number, cursor: number | undefined, limit: number) {
      const rows = await db.read<Row[]>(SELECT_PAGE, [memberId, cursor ?? FIRST_PAGE_CURSOR, limit + 1]);
      const more = rows.length > limit;
      const items = (more ? rows.slice(0, limit) : rows).map(toView);
      return { items, nextCursor: more ? items[items.length - 1]!.id : null };
    },

    /** Undefined for an unknown id and for someone else's participation alike. */
    async findOwn(id: number, memberId: number): Promise<MyParticipationView | undefined> {
      const [row] = await db.read<Row[]>(SELECT_ONE, [id, memberId]);
      return row && toView(row);
    },
  };
}

export type MyParticipationsRepository = ReturnType<typeof createMyParticipationsRepository>;
