// The three read routes the ceiling compares, with the exact statements and parameters the API's
// repositories run for them, so the bare server issues the same SQL.
import { FIRST_PAGE_CURSOR, STATEMENTS, windowRows } from '@mokakbab/api';

export const PAGE_LIMIT = 20;
const BARE_VIEWER_ID = 1;
export const PARTICIPANTS_ROUTE = '/participations/articles/:articleId';

export interface ReadRoute {
  readonly name: 'articles page' | 'article by id' | 'participants page';
  /** The request path for an id (the article's). */
  readonly path: (id: number) => string;
  /** Matches `path`, the id in group 1 (unused by the page). */
  readonly pattern: RegExp;
  readonly sql: string;
  /** The repository's parameters for that id; pages ask for one row more to know if there is a next page. */
  readonly params: (id: number) => unknown[];
  /** Whether the API route needs a bearer token. */
  readonly auth: boolean;
}

export const READ_ROUTES: readonly ReadRoute[] = [
  {
    name: 'articles page',
    path: () => `/articles?limit=${PAGE_LIMIT}`,
    pattern: /^\/articles\?limit=\d+()$/,
    sql: STATEMENTS['articles.page'],
    params: () => [FIRST_PAGE_CURSOR, PAGE_LIMIT + 1],
    auth: false,
  },
  {
    name: 'article by id',
    path: (id) => `/articles/${id}`,
    pattern: /^\/articles\/(\d+)$/,
    sql: STATEMENTS['articles.byId'],
    params: (id) => [id],
    auth: false,
  },
  {
    name: 'participants page',
    path: (id) => `/participations/articles/${id}?limit=${PAGE_LIMIT}`,
    pattern: /^\/participations\/articles\/(\d+)\?limit=\d+$/,
    sql: STATEMENTS['participations.participantsPage'],
    // The viewer's blocks are probed per row; the seed has none, so any member stands for the viewer.
    params: (id) => [BARE_VIEWER_ID, id, FIRST_PAGE_CURSOR, windowRows(PAGE_LIMIT)],
    auth: true,
  },
];
