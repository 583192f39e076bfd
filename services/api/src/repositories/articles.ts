// Articles with their author, category, region, district and count of ACTIVE participants.
import type { DbPool, TxConnection } from '../db/index.js';
import { MAX_ID } from '../schemas/common.js';
import type { ArticleView, CreateArticleInput } from '../schemas/articles.js';
import { referenceProblem, type ReferenceProblem } from './article-references.js';

export type { ReferenceProblem } from './article-references.js';

// The count is a correlated subquery over ix_participation_status_article: an index range per row,
// cheap for a page of at most 51 articles.
const ARTICLE_COLUMNS = `
  SELECT a.id, a.title, a.content, a.start_time, a.end_time, a.article_image, a.like_count, a.created_at,
    (SELECT COUNT(*) FROM participation p WHERE p.status = 'ACTIVE' AND p.article_id = a.id) AS participant_count,
    m.id AS author_id, m.nickname AS author_nickname, m.profile_image AS author_profile_image,
    c.id AS category_id, c.name AS category_name,
    r.id AS region_id, r.name AS region_name,
    d.id AS district_id, d.name AS district_name
  FROM article a
    JOIN member m ON m.id = a.member_id
    JOIN category c ON c.id = a.category_id
    JOIN region r ON r.id = a.region_id
    JOIN district d ON d.id = a.district_id`;

const SELECT_PAGE = `${ARTICLE_COLUMNS} WHERE a.id < ? ORDER BY a.id DESC LIMIT ?`;
const SELECT_ONE = `${ARTICLE_COLUMNS} WHERE a.id = ?`;
const SELECT_EXISTS = 'SELECT 1 AS found FROM article WHERE id = ?';
const INSERT_ARTICLE = `
  INSERT INTO article (member_id, category_id, region_id, district_id, title, content, start_time, end_time, article_image)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`;

/** Above every INT UNSIGNED id: the first page's cursor, so one SQL text serves every page. */
const FIRST_PAGE_CURSOR = MAX_ID + 1;

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

export function createArticlesRepository(db: DbPool) {
  return {
    async page(
      cursor: number | undefined,
      limit: number,
    ): Promise<{ items: ArticleView[]; nextCursor: number | null }> {
      // One row more than asked says whether another page exists.
      const rows = await db.read<ArticleRow[]>(SELECT_PAGE, [cursor ?? FIRST_PAGE_CURSOR, limit + 1]);
      const more = rows.length > limit;
      const items = (more ? rows.slice(0, limit) : rows).map(toView);
      return { items, nextCursor: more ? items[items.length - 1]!.id : null };
    },

    async findById(id: number): Promise<ArticleView | undefined> {
      const rows = await db.read<ArticleRow[]>(SELECT_ONE, [id]);
      return rows[0] && toView(rows[0]);
    },

    async exists(id: number): Promise<boolean> {
      const rows = await db.read<unknown[]>(SELECT_EXISTS, [id]);
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
        const result = await conn.query<{ insertId: number }>(INSERT_ARTICLE, [
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
        const [row] = await conn.query<ArticleRow[]>(SELECT_ONE, [result.insertId]);
        return toView(row!);
      });
    },
  };
}

export type ArticlesRepository = ReturnType<typeof createArticlesRepository>;
