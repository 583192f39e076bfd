// Pages that hide the members the viewer blocked. The statement reads the page's rows plus at most
// HIDDEN_ROWS_PER_PAGE more, in index order as the plain page does, and flags each row whose member
// the viewer blocked (one probe of uq_black_list_pair per row); the flagged rows are dropped here. A
// page whose window was all read but yields fewer rows than asked ends early with a cursor, so a
// viewer who blocked the authors of the next 10k rows pays a bounded cost per page, never a scan.

/** Rows a page may read past the ones it returns, to skip blocked members' rows. */
export const HIDDEN_ROWS_PER_PAGE = 20;

/** Params of a flagged page: ..., limit + 1 + hidden. */
export const windowRows = (limit: number) => limit + 1 + HIDDEN_ROWS_PER_PAGE;

/** `EXISTS` term that flags a row of the member `column` when the viewer (a parameter) blocked them. */
export const blockedFlag = (column: string) =>
  `EXISTS (SELECT 1 FROM black_list b WHERE b.blacker_id = ? AND b.blacked_id = ${column}) AS hidden`;

export interface FlaggedRow {
  id: number;
  hidden: number;
}

/** The visible rows of a flagged window (at most `limit`) and the cursor of the next page. */
export function visiblePage<R extends FlaggedRow>(rows: R[], limit: number): { rows: R[]; nextCursor: number | null } {
  const visible: R[] = [];
  for (const row of rows) {
    if (row.hidden) continue;
    // One more visible row than asked: the page is full and another follows its last row.
    if (visible.length === limit) return { rows: visible, nextCursor: visible[limit - 1]!.id };
    visible.push(row);
  }
  // The whole window read: rows below its last one may follow (a short page); otherwise the end.
  const windowFull = rows.length === windowRows(limit);
  return { rows: visible, nextCursor: windowFull ? rows[rows.length - 1]!.id : null };
}
