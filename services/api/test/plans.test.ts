// The plan test: every statement the API runs, on the original's data size (100k members, 100k
// articles, 200k participations, plus full token tables), must have a plan whose cost does not grow
// with the tables. Checked two ways on one connection:
// - the plan (tabular EXPLAIN, the same columns on MySQL 8.4 and MariaDB): no filesort or temporary
//   table, no full scan, and the access types its shape allows;
// - the rows the server actually read (Handler_read_* deltas of SHOW SESSION STATUS) against a
//   budget of a small multiple of the rows the statement returns or touches.
// A failure names the statement and prints both plans. To add a statement: export it from its
// repository and add it to repositories/statements.ts; CHECKS below then needs an entry (typecheck).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import mysql from 'mysql2/promise';
import { connectionOptions } from '@mokakbab/config';
import { createTestDatabase, type TestDatabase } from '@mokakbab/testkit';
import { FIRST_PAGE_CURSOR } from '../src/repositories/paging.js';
import { windowRows } from '../src/repositories/viewer-paging.js';
import { STATEMENTS, type StatementName } from '../src/repositories/statements.js';

const MEMBERS = 100_000;
const ARTICLES = 100_000;
const PARTICIPATIONS = 200_000;
/** The largest page a route asks for: limit 50, plus the row that says whether another page exists. */
const PAGE_ROWS = 51;
/**
 * Article 1 gets this many more ACTIVE participants and article 2 as many CANCELLED ones, so a page or
 * a lookup that walks an article's rows reads far more than it returns.
 */
const BUSY_ARTICLE_PARTICIPANTS = 2_000;
/** Live sign-outs and recent member revocations in the token tables, next to a full table of expired ones. */
const LIVE_DENYLIST_ROWS = 300;
const RECENT_REVOCATIONS = 100;
/** Member 1's refresh tokens (more than a session limit), for the trim statements. */
const MEMBER_ONE_TOKENS = 30;
const SESSION_LIMIT = 10;
const PURGE_BATCH = 1_000;
/** A viewer's page reads its rows and up to HIDDEN_ROWS_PER_PAGE more (rows of blocked members). */
const WINDOW_ROWS = windowRows(PAGE_ROWS - 1);
/** Member 4 blocked the authors of the newest 10k articles and article 1's newest participants. */
const BLOCKER = 4;
const BLOCKED_AUTHORS_OF_NEWEST = 10_000;
/** Member 1's likes and verification codes; member 3's participations (half ACTIVE). */
const MEMBER_ONE_LIKES = 50;
const MEMBER_ONE_CODES = 50;
const MEMBER_THREE_PARTICIPATIONS = 2_000;
/** The place of the article the edit statements change (foreign keys must hold). */
let editedPlace = { category_id: 0, region_id: 0, district_id: 0 };
/** A member without articles, with likes, participations and blocks, for DELETE FROM member. */
let loneMemberId = 0;

/**
 * - page: one table read as an index range (range/ref), every other by key (eq_ref/ref/const);
 * - lookup: every table by key (const/eq_ref/ref; an UPDATE or DELETE by key shows as range);
 * - range: a bounded index range over one table (a member's rows, polls, purges in batches);
 * - insert: no plan to check, only the rows read (unique and foreign-key checks).
 */
type Shape = 'page' | 'lookup' | 'range' | 'insert';

interface PlanCheck {
  shape: Shape;
  params: () => unknown[];
  /** Handler reads allowed. */
  maxRowsRead: number;
  /** Run inside a transaction that is rolled back (writes, locking reads). */
  write?: boolean;
}

const utc = (offsetMs: number) => new Date(Date.now() + offsetMs);
const MINUTE_MS = 60_000;

// Budgets: per row returned, a page reads its row, four eq_ref joins and a short participant count.
const CHECKS: Record<StatementName, PlanCheck> = {
  'articles.page': { shape: 'page', params: () => [FIRST_PAGE_CURSOR, PAGE_ROWS], maxRowsRead: 12 * PAGE_ROWS },
  'articles.pageForViewer': {
    shape: 'page',
    params: () => [BLOCKER, FIRST_PAGE_CURSOR, WINDOW_ROWS],
    maxRowsRead: 13 * WINDOW_ROWS,
  },
  'articles.byId': { shape: 'lookup', params: () => [ARTICLES / 2], maxRowsRead: 20 },
  'articles.exists': { shape: 'lookup', params: () => [ARTICLES / 2], maxRowsRead: 5 },
  'articles.references': { shape: 'lookup', params: () => [1, 1, 1], maxRowsRead: 5 },
  'articles.insert': {
    shape: 'insert',
    write: true,
    params: () => [1, 1, 1, 1, 'Plan test', 'Plan test', utc(MINUTE_MS), utc(2 * MINUTE_MS), null],
    maxRowsRead: 10,
  },
  'members.insert': {
    shape: 'insert',
    write: true,
    params: () => ['plan-test@example.com', 'x', 'Plan', 'plan'],
    maxRowsRead: 5,
  },
  'members.credentials': { shape: 'lookup', params: () => [`member${MEMBERS / 2}@example.com`], maxRowsRead: 5 },
  'members.profile': { shape: 'lookup', params: () => [MEMBERS / 2], maxRowsRead: 5 },
  'participations.participantsPage': {
    shape: 'page',
    params: () => [BLOCKER, 1, FIRST_PAGE_CURSOR, WINDOW_ROWS],
    maxRowsRead: 5 * WINDOW_ROWS,
  },
  'participations.insert': { shape: 'insert', write: true, params: () => [2, MEMBERS], maxRowsRead: 10 },
  'participations.reactivate': {
    shape: 'lookup',
    write: true,
    params: () => [2, BUSY_ARTICLE_PARTICIPANTS / 2],
    maxRowsRead: 5,
  },
  'participations.idByPair': { shape: 'lookup', params: () => [1, 1], maxRowsRead: 5 },
  'participations.byId': { shape: 'lookup', params: () => [PARTICIPATIONS / 2], maxRowsRead: 5 },
  'participations.cancel': { shape: 'lookup', write: true, params: () => [PARTICIPATIONS / 2], maxRowsRead: 5 },
  'refreshTokens.insert': {
    shape: 'insert',
    write: true,
    params: () => [1, Buffer.alloc(32, 7), utc(MINUTE_MS)],
    maxRowsRead: 5,
  },
  'refreshTokens.forRotation': {
    shape: 'lookup',
    write: true,
    params: () => [Buffer.from('00'.repeat(32), 'hex')],
    maxRowsRead: 5,
  },
  'refreshTokens.deleteById': { shape: 'lookup', write: true, params: () => [MEMBERS / 2], maxRowsRead: 5 },
  'refreshTokens.deleteForMember': {
    shape: 'range',
    write: true,
    params: () => [Buffer.alloc(32), MEMBERS / 2],
    maxRowsRead: 5,
  },
  'refreshTokens.oldestKept': { shape: 'page', params: () => [1, SESSION_LIMIT], maxRowsRead: 2 * SESSION_LIMIT + 5 },
  'refreshTokens.deleteUpTo': {
    shape: 'range',
    write: true,
    params: () => [1, Number.MAX_SAFE_INTEGER],
    maxRowsRead: 2 * MEMBER_ONE_TOKENS + 5,
  },
  'refreshTokens.deleteAllOfMember': {
    shape: 'range',
    write: true,
    params: () => [1],
    maxRowsRead: 2 * MEMBER_ONE_TOKENS + 5,
  },
  'refreshTokens.purgeExpired': {
    shape: 'range',
    write: true,
    params: () => [PURGE_BATCH],
    maxRowsRead: PURGE_BATCH + 10,
  },
  'denylist.insert': {
    shape: 'insert',
    write: true,
    params: () => ['plan-test-jti', 1, utc(MINUTE_MS)],
    maxRowsRead: 5,
  },
  'denylist.load': { shape: 'range', params: () => [utc(0)], maxRowsRead: LIVE_DENYLIST_ROWS + 10 },
  'denylist.poll': { shape: 'range', params: () => [utc(-5_000), utc(0)], maxRowsRead: 10 },
  'denylist.liveSignOutsOfMember': { shape: 'range', params: () => [1], maxRowsRead: 10 },
  'denylist.deleteCoveredOfMember': { shape: 'range', write: true, params: () => [1, 1], maxRowsRead: 10 },
  'denylist.purge': { shape: 'range', write: true, params: () => [PURGE_BATCH], maxRowsRead: PURGE_BATCH + 10 },
  'denylist.revokeMember': { shape: 'insert', write: true, params: () => [1], maxRowsRead: 5 },
  'denylist.serverNow': { shape: 'lookup', params: () => [], maxRowsRead: 0 },
  'denylist.membersSince': {
    shape: 'range',
    params: () => [utc(-15 * MINUTE_MS)],
    maxRowsRead: RECENT_REVOCATIONS + 10,
  },
  'denylist.purgeMembers': {
    shape: 'range',
    write: true,
    params: () => [utc(-16 * MINUTE_MS), PURGE_BATCH],
    maxRowsRead: PURGE_BATCH + 10,
  },
  'refreshTokens.deleteSession': { shape: 'lookup', write: true, params: () => [1, 1], maxRowsRead: 5 },
  'likes.lockArticle': { shape: 'lookup', write: true, params: () => [ARTICLES / 2], maxRowsRead: 5 },
  'likes.selectLike': { shape: 'lookup', params: () => [1, ARTICLES / 2], maxRowsRead: 5 },
  'likes.insertLike': { shape: 'insert', write: true, params: () => [MEMBERS / 2, ARTICLES / 2], maxRowsRead: 10 },
  'likes.deleteLike': { shape: 'lookup', write: true, params: () => [1, 1], maxRowsRead: 5 },
  'likes.addToCount': { shape: 'lookup', write: true, params: () => [1, ARTICLES / 2], maxRowsRead: 5 },
  'articleEdits.lock': { shape: 'lookup', write: true, params: () => [ARTICLES / 2], maxRowsRead: 5 },
  'articleEdits.update': {
    shape: 'lookup',
    write: true,
    params: () => [
      'Plan test',
      null,
      editedPlace.category_id,
      editedPlace.region_id,
      editedPlace.district_id,
      utc(MINUTE_MS),
      utc(2 * MINUTE_MS),
      false,
      null,
      ARTICLES / 2,
    ],
    maxRowsRead: 10,
  },
  // Cascades to the article's likes and participations.
  'articleEdits.delete': { shape: 'lookup', write: true, params: () => [ARTICLES / 2], maxRowsRead: 60 },
  'memberEdits.lockMember': { shape: 'lookup', write: true, params: () => [MEMBERS / 2], maxRowsRead: 5 },
  'memberEdits.uncountLikes': {
    shape: 'range',
    write: true,
    params: () => [1],
    maxRowsRead: 5 * MEMBER_ONE_LIKES + 10,
  },
  'memberEdits.deleteArticles': { shape: 'range', write: true, params: () => [MEMBERS / 2], maxRowsRead: 60 },
  // Cascades to the member's rows in every table, and the trigger's member_revocation row.
  'memberEdits.deleteMember': { shape: 'lookup', write: true, params: () => [loneMemberId], maxRowsRead: 80 },
  'memberEdits.update': {
    shape: 'lookup',
    write: true,
    params: () => [null, 'plan', null, null, MEMBERS / 2],
    maxRowsRead: 5,
  },
  'myParticipations.page': {
    shape: 'page',
    params: () => [3, FIRST_PAGE_CURSOR, PAGE_ROWS],
    maxRowsRead: 4 * PAGE_ROWS,
  },
  'myParticipations.own': { shape: 'lookup', params: () => [PARTICIPATIONS / 2, 1], maxRowsRead: 5 },
  'blocks.page': { shape: 'page', params: () => [BLOCKER, FIRST_PAGE_CURSOR, PAGE_ROWS], maxRowsRead: 3 * PAGE_ROWS },
  'blocks.insert': { shape: 'insert', write: true, params: () => [loneMemberId, 7], maxRowsRead: 10 },
  'blocks.byPair': { shape: 'lookup', params: () => [BLOCKER, 1_950], maxRowsRead: 5 },
  'blocks.delete': { shape: 'lookup', write: true, params: () => [BLOCKER, 1_950], maxRowsRead: 5 },
  'verification.insertCode': {
    shape: 'insert',
    write: true,
    params: () => [1, '123456', utc(MINUTE_MS)],
    maxRowsRead: 5,
  },
  'verification.lockMember': { shape: 'lookup', write: true, params: () => ['member1@example.com'], maxRowsRead: 5 },
  // The member's newest code: a backward ref range stopped by LIMIT 1.
  'verification.latestCode': { shape: 'page', params: () => [1], maxRowsRead: 5 },
  'verification.countAttempt': { shape: 'lookup', write: true, params: () => [1], maxRowsRead: 5 },
  'verification.useCode': { shape: 'lookup', write: true, params: () => [1], maxRowsRead: 5 },
  'verification.verifyMember': { shape: 'lookup', write: true, params: () => [MEMBERS / 2], maxRowsRead: 5 },
};

interface ExplainRow {
  id: number | null;
  select_type: string;
  table: string | null;
  type: string | null;
  key: string | null;
  rows: number | string | null;
  Extra: string | null;
}

const ALLOWED_TYPES: Record<Exclude<Shape, 'insert'>, { first: string[]; rest: string[] }> = {
  page: { first: ['range', 'ref'], rest: ['eq_ref', 'ref', 'const', 'system'] },
  lookup: { first: ['const', 'eq_ref', 'ref', 'system'], rest: ['const', 'eq_ref', 'ref', 'system'] },
  range: { first: ['range', 'ref', 'const'], rest: ['const', 'eq_ref', 'ref', 'system'] },
};

/** What is wrong with a plan, or an empty list. */
function planProblems({ shape, write }: PlanCheck, rows: ExplainRow[]): string[] {
  if (shape === 'insert') return [];
  const problems: string[] = [];
  const allowed = shape === 'lookup' && write ? ALLOWED_TYPES.range : ALLOWED_TYPES[shape];
  // Rows without a table ("No tables used", "Impossible WHERE noticed after reading const tables") read nothing.
  const tables = rows.filter((r) => r.table !== null && r.type !== null);
  tables.forEach((row, i) => {
    const extra = row.Extra ?? '';
    if (/filesort/i.test(extra)) problems.push(`${row.table}: Using filesort`);
    if (/temporary/i.test(extra)) problems.push(`${row.table}: Using temporary`);
    const types = i === 0 ? allowed.first : allowed.rest;
    if (!types.includes(row.type!)) {
      problems.push(`${row.table}: access type ${row.type} (allowed: ${types.join(', ')})`);
    }
    if (row.key === null) problems.push(`${row.table}: no index used`);
  });
  return problems;
}

const HANDLER_READS = ['first', 'key', 'last', 'next', 'prev', 'rnd', 'rnd_next'].map((k) => `Handler_read_${k}`);

let db: TestDatabase;
let conn: mysql.Connection;
/** Handler reads that SHOW SESSION STATUS itself adds (MariaDB reads its status table). */
let showOverhead = 0;

async function handlerReads(): Promise<number> {
  const [rows] = await conn.query<mysql.RowDataPacket[]>("SHOW SESSION STATUS LIKE 'Handler_read%'");
  return rows.filter((r) => HANDLER_READS.includes(r.Variable_name as string)).reduce((n, r) => n + Number(r.Value), 0);
}

async function rowsRead(sql: string, params: unknown[], write: boolean): Promise<number> {
  if (write) await conn.query('START TRANSACTION');
  try {
    const before = await handlerReads();
    await conn.query(sql, params);
    return (await handlerReads()) - before - showOverhead;
  } finally {
    if (write) await conn.query('ROLLBACK');
  }
}

async function explain(sql: string, params: unknown[]): Promise<{ rows: ExplainRow[]; json: string }> {
  const [rows] = await conn.query<mysql.RowDataPacket[]>(`EXPLAIN ${sql}`, params);
  const [json] = await conn.query<mysql.RowDataPacket[]>(`EXPLAIN FORMAT=JSON ${sql}`, params);
  return { rows: rows as ExplainRow[], json: String(Object.values(json[0]!)[0]) };
}

function formatPlan(rows: ExplainRow[]): string {
  return rows
    .map(
      (r) =>
        `  ${r.id ?? '-'} ${r.select_type} ${r.table ?? '-'} type=${r.type} key=${r.key} rows=${r.rows} ${r.Extra ?? ''}`,
    )
    .join('\n');
}

/** Fills the token tables the way a long-running fleet leaves them: mostly history, a little live. */
async function seedTokenTables(): Promise<void> {
  await conn.query(
    `INSERT INTO access_token_denylist (jti, member_id, expires_at, created_at)
     SELECT CONCAT('expired-', id), id, UTC_TIMESTAMP(3) - INTERVAL 2 MINUTE, UTC_TIMESTAMP(3) - INTERVAL 17 MINUTE FROM member`,
  );
  await conn.query(
    `INSERT INTO access_token_denylist (jti, member_id, expires_at, created_at)
     SELECT CONCAT('live-', id), id, UTC_TIMESTAMP(3) + INTERVAL 10 MINUTE, UTC_TIMESTAMP(3) - INTERVAL 5 MINUTE
     FROM member WHERE id <= ?`,
    [LIVE_DENYLIST_ROWS],
  );
  await conn.query(
    `INSERT INTO member_revocation (member_id, revoked_before)
     SELECT id, IF(id <= ?, UTC_TIMESTAMP(3) - INTERVAL 1 MINUTE, UTC_TIMESTAMP(3) - INTERVAL 1 DAY) FROM member`,
    [RECENT_REVOCATIONS],
  );
  // Every member one token, half of them expired; member 1 more than the session limit.
  await conn.query(
    `INSERT INTO refresh_token (member_id, token_hash, expires_at)
     SELECT id, UNHEX(SHA2(CONCAT('token-', id), 256)),
       IF(MOD(id, 2) = 0, UTC_TIMESTAMP(3) - INTERVAL 1 DAY, UTC_TIMESTAMP(3) + INTERVAL 1 DAY)
     FROM member`,
  );
  await conn.query(
    `INSERT INTO refresh_token (member_id, token_hash, expires_at)
     SELECT 1, UNHEX(SHA2(CONCAT('member-one-', id), 256)), UTC_TIMESTAMP(3) + INTERVAL 1 DAY FROM member WHERE id < ?`,
    [MEMBER_ONE_TOKENS],
  );
  await conn.query(
    `INSERT IGNORE INTO participation (article_id, member_id, status)
     SELECT article.id, member.id, IF(article.id = 1, 'ACTIVE', 'CANCELLED')
     FROM article JOIN member ON member.id <= ? WHERE article.id IN (1, 2)`,
    [BUSY_ARTICLE_PARTICIPANTS],
  );
}

/** Likes, blocks, verification codes and one member's many participations, as issue 9's routes leave them. */
async function seedParityTables(): Promise<void> {
  await conn.query('INSERT INTO article_like (member_id, article_id) SELECT 1, id FROM article WHERE id <= ?', [
    MEMBER_ONE_LIKES,
  ]);
  await conn.query('UPDATE article SET like_count = like_count + 1 WHERE id <= ?', [MEMBER_ONE_LIKES]);
  await conn.query(
    `INSERT INTO verification_code (member_id, code, expires_at)
     SELECT 1, LPAD(id, 6, '0'), UTC_TIMESTAMP(3) + INTERVAL 10 MINUTE FROM member WHERE id <= ?`,
    [MEMBER_ONE_CODES],
  );
  await conn.query(
    `INSERT IGNORE INTO black_list (blacker_id, blacked_id)
     SELECT DISTINCT ?, member_id FROM article WHERE id > ? AND member_id <> ?`,
    [BLOCKER, ARTICLES - BLOCKED_AUTHORS_OF_NEWEST, BLOCKER],
  );
  await conn.query(
    `INSERT IGNORE INTO black_list (blacker_id, blacked_id)
     SELECT ?, id FROM member WHERE id BETWEEN ? AND ? AND id <> ?`,
    [BLOCKER, BUSY_ARTICLE_PARTICIPANTS - 100, BUSY_ARTICLE_PARTICIPANTS, BLOCKER],
  );
  await conn.query(
    `INSERT IGNORE INTO participation (article_id, member_id, status)
     SELECT id, 3, IF(MOD(id, 2) = 0, 'ACTIVE', 'CANCELLED') FROM article WHERE id <= ?`,
    [MEMBER_THREE_PARTICIPATIONS],
  );
  const [lone] = await conn.query<mysql.ResultSetHeader>(
    "INSERT INTO member (email, password_hash, name, nickname) VALUES ('lone@example.com', 'x', 'Lone', 'lone')",
  );
  loneMemberId = lone.insertId;
  await conn.query('INSERT INTO article_like (member_id, article_id) SELECT ?, id FROM article WHERE id <= 5', [
    loneMemberId,
  ]);
  await conn.query('UPDATE article SET like_count = like_count + 1 WHERE id <= 5');
  await conn.query('INSERT INTO participation (article_id, member_id) SELECT id, ? FROM article WHERE id <= 5', [
    loneMemberId,
  ]);
  await conn.query('INSERT INTO black_list (blacker_id, blacked_id) SELECT ?, id FROM member WHERE id <= 5', [
    loneMemberId,
  ]);
  const [place] = await conn.query<mysql.RowDataPacket[]>(
    'SELECT category_id, region_id, district_id FROM article WHERE id = ?',
    [ARTICLES / 2],
  );
  editedPlace = place[0] as typeof editedPlace;
}

before(async () => {
  db = await createTestDatabase();
  const seeded = await db.seed({
    members: MEMBERS,
    articles: ARTICLES,
    participations: PARTICIPATIONS,
    sharedPassword: true,
  });
  conn = await mysql.createConnection(connectionOptions(db.url));
  await conn.query("SET time_zone = '+00:00'");
  await seedTokenTables();
  await seedParityTables();
  // Statistics as a settled production database has them.
  await conn.query(
    'ANALYZE TABLE member, article, participation, category, region, district, refresh_token, access_token_denylist, member_revocation, article_like, black_list, verification_code',
  );
  const first = await handlerReads();
  showOverhead = (await handlerReads()) - first;
  console.log(
    `# [measure] plan test data: ${JSON.stringify(seeded)} (seed ms), SHOW STATUS overhead ${showOverhead} reads`,
  );
});

after(async () => {
  await conn?.end();
  await db?.close();
});

describe('every request-path statement has a constant-cost plan on the full data set', () => {
  test('every statement in repositories/statements.ts has a check, and only those', () => {
    assert.deepEqual(Object.keys(CHECKS).sort(), Object.keys(STATEMENTS).sort());
  });

  for (const [name, check] of Object.entries(CHECKS) as Array<[StatementName, PlanCheck]>) {
    test(name, async () => {
      const sql = STATEMENTS[name];
      const params = check.params();
      const plan = check.shape === 'insert' ? undefined : await explain(sql, params);
      const problems = plan ? planProblems(check, plan.rows) : [];
      const read = await rowsRead(sql, params, check.write === true);
      if (read > check.maxRowsRead) problems.push(`read ${read} rows, budget ${check.maxRowsRead}`);
      console.log(`# [measure] ${name}: ${read} rows read (budget ${check.maxRowsRead})`);
      assert.deepEqual(
        problems,
        [],
        `${name} (${check.shape}):\n${sql.trim()}\nparams: ${JSON.stringify(params)}\n` +
          (plan ? `EXPLAIN:\n${formatPlan(plan.rows)}\nEXPLAIN FORMAT=JSON:\n${plan.json}` : ''),
      );
    });
  }
});
