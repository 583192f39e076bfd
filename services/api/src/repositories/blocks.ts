// The block list: (blacker_id, blacked_id) pairs under uq_black_list_pair, which is what the article
// and participant pages probe (one eq_ref per row they read) to hide blocked members.
import { isDuplicateEntry, missingReference, type DbPool } from '../db/index.js';
import { FIRST_PAGE_CURSOR } from './paging.js';

// Ordered by the blocked member's id: a backward range of uq_black_list_pair, no sort.
const SELECT_PAGE = `
  SELECT b.blacked_id, m.nickname, m.profile_image, b.created_at
  FROM black_list b JOIN member m ON m.id = b.blacked_id
  WHERE b.blacker_id = ? AND b.blacked_id < ?
  ORDER BY b.blacked_id DESC
  LIMIT ?`;
const INSERT_BLOCK = 'INSERT INTO black_list (blacker_id, blacked_id) VALUES (?, ?)';
const SELECT_BLOCK = `
  SELECT b.blacked_id, m.nickname, m.profile_image, b.created_at
  FROM black_list b JOIN member m ON m.id = b.blacked_id
  WHERE b.blacker_id = ? AND b.blacked_id = ?`;
const DELETE_BLOCK = 'DELETE FROM black_list WHERE blacker_id = ? AND blacked_id = ?';

/** Every statement of this repository, for the plan test. */
export const BLOCKS_SQL = {
  page: SELECT_PAGE,
  insert: INSERT_BLOCK,
  byPair: SELECT_BLOCK,
  delete: DELETE_BLOCK,
} as const;

interface Row {
  blacked_id: number;
  nickname: string;
  profile_image: string | null;
  created_at: Date;
}

/** Expected failures of `add`, as results: already blocked, or no member with that id. */
export type BlockProblem = 'ALREADY_BLOCKED' | 'MEMBER_NOT_FOUND';

type BlockView = ReturnType<typeof toView>;

const toView = (row: Row) => ({
  blackedId: row.blacked_id,
  nickname: row.nickname,
  profileImage: row.profile_image,
  createdAt: row.created_at.toISOString(),
});

export function createBlocksRepository(db: DbPool) {
  return {
    async page(blackerId: number, cursor: number | undefined, limit: number) {
      const rows = await db.read<Row[]>(SELECT_PAGE, [blackerId, cursor ?? FIRST_PAGE_CURSOR, limit + 1]);
      const more = rows.length > limit;
      const items = (more ? rows.slice(0, limit) : rows).map(toView);
      return { items, nextCursor: more ? items[items.length - 1]!.blackedId : null };
    },

    /**
     * The new block; undefined when the caller was deleted between the insert and the read (the
     * cascade took the row). A deleted caller (fk_black_list_blacker) still throws: the error
     * handler's 401.
     */
    async add(blackerId: number, blackedId: number): Promise<BlockView | BlockProblem | undefined> {
      try {
        await db.query(INSERT_BLOCK, [blackerId, blackedId]);
      } catch (err) {
        if (isDuplicateEntry(err)) return 'ALREADY_BLOCKED';
        if (missingReference(err) === 'fk_black_list_blacked') return 'MEMBER_NOT_FOUND';
        throw err;
      }
      const [row] = await db.query<Row[]>(SELECT_BLOCK, [blackerId, blackedId]);
      return row && toView(row);
    },

    async remove(blackerId: number, blackedId: number): Promise<boolean> {
      const result = await db.query<{ affectedRows: number }>(DELETE_BLOCK, [blackerId, blackedId]);
      return result.affectedRows > 0;
    },
  };
}

export type BlocksRepository = ReturnType<typeof createBlocksRepository>;
