import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RowDataPacket } from 'mysql2';
import { migrate, seededMember, SHARED_SEED_PASSWORD, verifyPassword } from '@mokakbab/db';
import { createTestDatabase, type TestDatabase } from '../src/index.js';

describe('a throwaway database: migrate, seed, query', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
  });
  after(() => db.close());

  test('migrations created every table and are idempotent', async () => {
    const rows = await db.query<RowDataPacket[]>(
      'SELECT TABLE_NAME AS t, ENGINE AS e, TABLE_COLLATION AS c FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY t',
      [db.name],
    );
    const tables = rows.map((r) => r.t).filter((t) => t !== 'schema_version');
    assert.deepEqual(tables, [
      'access_token_denylist',
      'article',
      'article_like',
      'black_list',
      'category',
      'district',
      'member',
      'member_revocation',
      'participation',
      'refresh_token',
      'region',
      'verification_code',
    ]);
    for (const r of rows) {
      assert.equal(r.e, 'InnoDB', `${r.t} engine`);
      assert.match(String(r.c), /^utf8mb4/, `${r.t} collation`);
    }
    const again = await migrate(db.url);
    assert.deepEqual(again.applied, []);
  });

  test('seed makes consistent, queryable data', async () => {
    const result = await db.seed({ members: 40, articles: 25, participations: 120 });
    assert.deepEqual([result.members, result.articles, result.participations], [40, 25, 120]);

    const [orphans] = await db.query<RowDataPacket[]>(
      `SELECT COUNT(*) AS n FROM article a JOIN district d ON d.id = a.district_id WHERE d.region_id <> a.region_id`,
    );
    assert.equal(Number(orphans!.n), 0, 'every article district lies in the article region');

    const [active] = await db.query<RowDataPacket[]>(
      `SELECT COUNT(*) AS n FROM participation WHERE status = 'ACTIVE' AND article_id = (SELECT MIN(id) FROM article)`,
    );
    assert.ok(Number(active!.n) > 0);

    const [member] = await db.query<RowDataPacket[]>('SELECT id, email, password_hash FROM member ORDER BY id LIMIT 1');
    const { email, password } = seededMember(Number(member!.id));
    assert.equal(member!.email, email);
    assert.equal(await verifyPassword(password, String(member!.password_hash)), true);
    assert.equal(await verifyPassword('wrong', String(member!.password_hash)), false);
  });

  test('seed with sharedPassword: members added set-based, all with the one password', async () => {
    const before = await db.query<RowDataPacket[]>('SELECT COALESCE(MAX(id), 0) AS id FROM member');
    const result = await db.seed({ members: 30, articles: 0, participations: 0, sharedPassword: true });
    assert.equal(result.members, Number(before[0]!.id) + 30);
    const added = await db.query<RowDataPacket[]>(
      'SELECT id, email, password_hash FROM member WHERE id > ? ORDER BY id',
      [before[0]!.id],
    );
    assert.equal(added.length, 30);
    assert.equal(added[0]!.email, seededMember(Number(added[0]!.id)).email);
    assert.equal(new Set(added.map((m) => m.password_hash)).size, 1, 'one hash, computed once');
    assert.equal(await verifyPassword(SHARED_SEED_PASSWORD, String(added[0]!.password_hash)), true);
  });

  test('unique constraints hold', async () => {
    await assert.rejects(
      db.query(
        `INSERT INTO member (email, password_hash, name, nickname) VALUES ('member1@example.com', 'x', 'a', 'b')`,
      ),
      { code: 'ER_DUP_ENTRY' },
    );
  });

  test('the harness counts and kills connections to its database only', async () => {
    const mysql = await import('mysql2/promise');
    const other = await mysql.createConnection({ uri: db.url.href });
    other.on('error', () => undefined);
    assert.equal(await db.serverConnections(), 1);
    assert.equal(await db.killConnections(), 1);
    await assert.rejects(other.query('SELECT 1'));
    assert.equal(await db.serverConnections(), 0);
  });
});

describe('a dedicated server with options', () => {
  test('starts with the given max_connections and wait_timeout', async () => {
    const db = await createTestDatabase({ serverOptions: { max_connections: 17, wait_timeout: 42 } });
    try {
      const [row] = await db.query<RowDataPacket[]>('SELECT @@max_connections AS mc, @@wait_timeout AS wt');
      assert.equal(Number(row!.mc), 17);
      assert.equal(Number(row!.wt), 42);
    } finally {
      await db.close();
    }
  });
});
