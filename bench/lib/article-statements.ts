// TEMPORARY until the repositories export their statements (plans helper): the articles
// repository's page and by-id statements, as services/api/src/repositories/articles.ts has them.
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

export const ARTICLE_STATEMENTS = { page: SELECT_PAGE, byId: SELECT_ONE };
