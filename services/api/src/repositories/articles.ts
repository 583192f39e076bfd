// Articles with their author, category, region, district and count of ACTIVE participants.
import type { DbPool, TxConnection } from '../db/index.js';
import type { ArticleView, CreateArticleInput } from '../schemas/articles.js';
import { FIRST_PAGE_CURSOR } from './paging.js';
import { blockedFlag, visiblePage, windowRows, type FlaggedRow } from './viewer-paging.js';

// STRAIGHT_JOIN fixes the join order on both MySQL and MariaDB: `article` first, read backwards
// along its primary key from the cursor, every other table by primary key (eq_ref), so the nested
// loop stops after LIMIT rows. Left to itself MariaDB 10.11 started at `category` (10 rows) and
// sorted all 100k articles in a temporary table. The participant count is a correlated subquery
// over ix_participation_status_article, evaluated only for the rows sent: one short index range each.
const ARTICLE_SELECT = `
  SELECT STRAIGHT_JOIN a.id, a.title, a.content, a.start_time, a.end_time, a.article_image, a.like_count, a.created_at,
    (SELECT COUNT(*) FROM participation p WHERE p.status = 'ACTIVE' AND p.article_id = a.id) AS participant_count,
    m.id AS author_id, m.nickname AS author_nickname, m.profile_image AS author_profile_image,
    c.id AS category_id, c.name AS category_name,
    r.id AS region_id, r.name AS region_name,
    d.id AS district_id, d.name AS district_name`;
const ARTICLE_FROM = `
  FROM article a
    JOIN member m ON m.id = a.member_id
    JOIN category c ON c.id = a.category_id
    JOIN region r ON r.id = a.region_id
    JOIN district d ON d.id = a.district_id`;
const ARTICLE_COLUMNS = `${ARTICLE_SELECT}${ARTICLE_FROM}`;

/** Every statement of this repository, run as they are by the routes and by test/plans.test.ts. */
export const ARTICLES_SQL = {
  /** Params: cursor (ids below it), limit + 1. */
  page: `${ARTICLE_COLUMNS} WHERE a.id < ? ORDER BY a.id DESC LIMIT ?`,
  /** The page of a signed-in viewer, blocked authors flagged. Params: viewer id, cursor, window rows. */
  pageForViewer: `${ARTICLE_SELECT}, ${blockedFlag('a.member_id')}${ARTICLE_FROM}
  WHERE a.id < ? ORDER BY a.id DESC LIMIT ?`,
  byId: `${ARTICLE_COLUMNS} WHERE a.id = ?`,
  exists: 'SELECT 1 AS found FROM article WHERE id = ?',
  /** Params: category id, region id, district id. */
  references: `
  SELECT EXISTS (SELECT 1 FROM category WHERE id = ?) AS category_found,
    EXISTS (SELECT 1 FROM region WHERE id = ?) AS region_found,
    (SELECT region_id FROM district WHERE id = ?) AS district_region_id`,
  insert: `
  INSERT INTO article (member_id, category_id, region_id, district_id, title, content, start_time, end_time, article_image)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
} as const;

interface ArticleRow {
  id: number;
  title: string;
  content: string;
  start_time: Date;
  end_time: Date;
  article_image: string | null;
  like_count: number;
  created_at: Date;
  participant_count: number;
  author_id: number;
  author_nickname: string;
  author_profile_image: string | null;
  category_id: number;
  category_name: string;
  region_id: number;
  region_name: string;
  district_id: number;
  district_name: string;
}

interface ReferencesRow {
  category_found: number;
  region_found: number;
  district_region_id: number | null;
}

function toView(row: ArticleRow): ArticleView {
  return {
    id: row.id,
    title: row.title,
    content: row.content,
    startTime: row.start_time.toISOString(),
    endTime: row.end_time.toISOString(),
    articleImage: row.article_image,
    likeCount: row.like_count,
    createdAt: row.created_at.toISOString(),
    participantCount: Number(row.participant_count),
    author: { id: row.author_id, nickname: row.author_nickname, profileImage: row.author_profile_image },
    category: { id: row.category_id, name: row.category_name },
    region: { id: row.region_id, name: row.region_name },
    district: { id: row.district_id, name: row.district_name },
  };
}

export type ReferenceProblem =
  'CATEGORY_NOT_FOUND' | 'REGION_NOT_FOUND' | 'DISTRICT_NOT_FOUND' | 'DISTRICT_NOT_IN_REGION';

export interface ArticlePlace {
  categoryId: number;
  regionId: number;
  districtId: number;
}

/** The category and region must exist and the district must lie in the region (create and edit). */
export async function referenceProblem(conn: TxConnection, place: ArticlePlace): Promise<ReferenceProblem | undefined> {
  const [refs] = await conn.query<ReferencesRow[]>(ARTICLES_SQL.references, [
    place.categoryId,
    place.regionId,
    place.districtId,
  ]);
  if (!refs?.category_found) return 'CATEGORY_NOT_FOUND';
  if (!refs.region_found) return 'REGION_NOT_FOUND';
  if (refs.district_region_id === null) return 'DISTRICT_NOT_FOUND';
  if (refs.district_region_id !== place.regionId) return 'DISTRICT_NOT_IN_REGION';
  return undefined;
}

export function createArticlesRepository(db: DbPool) {
  return {
    async page(
      cursor: number | undefined,
      limit: number,
    ): Promise<{ items: ArticleView[]; nextCursor: number | null }> {
      // One row more than asked says whether another page exists.
      const rows = await db.read<ArticleRow[]>(ARTICLES_SQL.page, [cursor ?? FIRST_PAGE_CURSOR, limit + 1]);
      const more = rows.length > limit;
      const items = (more ? rows.slice(0, limit) : rows).map(toView);
      return { items, nextCursor: more ? items[items.length - 1]!.id : null };
    },

    /** The page without the articles of members the viewer blocked (see viewer-paging.ts). */
    async pageForViewer(
      viewerId: number,
      cursor: number | undefined,
      limit: number,
    ): Promise<{ items: ArticleView[]; nextCursor: number | null }> {
      const rows = await db.read<(ArticleRow & FlaggedRow)[]>(ARTICLES_SQL.pageForViewer, [
        viewerId,
        cursor ?? FIRST_PAGE_CURSOR,
        windowRows(limit),
      ]);
      const page = visiblePage(rows, limit);
      return { items: page.rows.map(toView), nextCursor: page.nextCursor };
    },

    async findById(id: number): Promise<ArticleView | undefined> {
      const rows = await db.read<ArticleRow[]>(ARTICLES_SQL.byId, [id]);
      return rows[0] && toView(rows[0]);
    },

    async exists(id: number): Promise<boolean> {
      const rows = await db.read<unknown[]>(ARTICLES_SQL.exists, [id]);
      return rows.length > 0;
    },

    /**
     * Checks the references and inserts in one transaction; a problem comes back instead of an
     * article. The times come parsed and range-checked by the route.
     */
    create(
      memberId: number,
      input: CreateArticleInput,
      startTime: Date,
      endTime: Date,
    ): Promise<ArticleView | ReferenceProblem> {
      return db.transaction(async (conn: TxConnection) => {
        const problem = await referenceProblem(conn, input);
        if (problem) return problem;
        const result = await conn.query<{ insertId: number }>(ARTICLES_SQL.insert, [
          memberId,
          input.categoryId,
          input.regionId,
          input.districtId,
          input.title,
          input.content,
          startTime,
          endTime,
          input.articleImage ?? null,
        ]);
        const [row] = await conn.query<ArticleRow[]>(ARTICLES_SQL.byId, [result.insertId]);
        return toView(row!);
      });
    },
  };
}

export type ArticlesRepository = ReturnType<typeof createArticlesRepository>;
