// The API against a server configured unlike the test default: another default time zone (and this
// process in a third one), and a one-second InnoDB lock wait, on a dedicated throwaway server.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import mysql from 'mysql2/promise';
import { connectionOptions } from '@mokakbab/config';
import { createTestDatabase, type TestDatabase } from '@mokakbab/testkit';
import { bearer, build, errorBody, signIn, type TestApi, closeAll } from './helper.js';

const SERVER_TIME_ZONE = '+09:00';
// Neither UTC nor the server's zone, with daylight saving on top.
const PROCESS_TIME_ZONE = 'America/Los_Angeles';
const MINUTE_MS = 60_000;

let db: TestDatabase;
let api: TestApi;
let token: string;
const originalTz = process.env.TZ;

before(async () => {
  process.env.TZ = PROCESS_TIME_ZONE;
  db = await createTestDatabase({
    serverOptions: { default_time_zone: SERVER_TIME_ZONE, innodb_lock_wait_timeout: 1 },
  });
  await db.seed({ members: 5, articles: 3, participations: 3 });
  api = await build(undefined, db);
  token = (await signIn(api.app, 1)).accessToken;
});

after(async () => {
  await closeAll(api, db);
  if (originalTz === undefined) delete process.env.TZ;
  else process.env.TZ = originalTz;
});

/** An article nobody has joined yet, written by member 2. */
async function freshArticle(): Promise<number> {
  const result = await db.query<{ insertId: number }>(
    `INSERT INTO article (member_id, category_id, region_id, district_id, title, content, start_time, end_time)
     SELECT 2, (SELECT MIN(id) FROM category), d.region_id, d.id, 'Fresh', 'Nobody yet', NOW(), NOW()
     FROM district d LIMIT 1`,
  );
  return result.insertId;
}

test('the time zones differ as intended', async () => {
  assert.notEqual(new Date().getTimezoneOffset(), 0, 'this process is not on UTC');
  const [row] = await db.query<{ tz: string }[]>('SELECT @@global.time_zone AS tz');
  assert.equal(row!.tz, SERVER_TIME_ZONE);
});

test('createdAt of a new article and a new participation is the current UTC instant', async () => {
  const [ref] = await db.query<{ category_id: number; region_id: number; district_id: number }[]>(
    'SELECT (SELECT MIN(id) FROM category) AS category_id, region_id, id AS district_id FROM district ORDER BY id LIMIT 1',
  );
  const created = await api.app.inject({
    method: 'POST',
    url: '/articles',
    headers: bearer(token),
    payload: {
      title: 'Noodles',
      content: 'Late lunch',
      categoryId: ref!.category_id,
      regionId: ref!.region_id,
      districtId: ref!.district_id,
      startTime: '2030-06-01T12:00:00.000Z',
      endTime: '2030-06-01T13:00:00.000Z',
    },
  });
  assert.equal(created.statusCode, 201);
  const article = created.json<{ id: number; createdAt: string; startTime: string }>();
  assert.equal(article.startTime, '2030-06-01T12:00:00.000Z', 'a written instant reads back unchanged');
  const articleSkewMs = Math.abs(Date.parse(article.createdAt) - Date.now());
  assert.ok(articleSkewMs < MINUTE_MS, `article createdAt ${article.createdAt} is ${articleSkewMs} ms off`);

  const join = await api.app.inject({
    method: 'POST',
    url: '/participations',
    headers: bearer(token),
    payload: { articleId: article.id },
  });
  assert.equal(join.statusCode, 201);
  const list = await api.app.inject({
    method: 'GET',
    url: `/participations/articles/${article.id}`,
    headers: bearer(token),
  });
  const [participant] = list.json<{ items: { createdAt: string }[] }>().items;
  assert.ok(participant);
  const joinSkewMs = Math.abs(Date.parse(participant.createdAt) - Date.now());
  assert.ok(joinSkewMs < MINUTE_MS, `participation createdAt ${participant.createdAt} is ${joinSkewMs} ms off`);
});

test('a lock wait timeout is 503 DATABASE_UNAVAILABLE with Retry-After, and the pool carries on', async () => {
  const articleId = await freshArticle();
  // Another client holds member 1's row: the join's foreign-key check waits for it, then times out.
  const holder = await mysql.createConnection(connectionOptions(db.url));
  try {
    await holder.beginTransaction();
    await holder.query('SELECT id FROM member WHERE id = 1 FOR UPDATE');
    const blocked = await api.app.inject({
      method: 'POST',
      url: '/participations',
      headers: bearer(token),
      payload: { articleId },
    });
    assert.equal(blocked.statusCode, 503);
    assert.equal(errorBody(blocked).code, 'DATABASE_UNAVAILABLE');
    assert.equal(blocked.headers['retry-after'], '1');
  } finally {
    await holder.rollback();
    await holder.end();
  }
  const retried = await api.app.inject({
    method: 'POST',
    url: '/participations',
    headers: bearer(token),
    payload: { articleId },
  });
  assert.equal(retried.statusCode, 201, 'the same request succeeds once the lock is gone');
  assert.equal(api.app.db.stats().total, api.app.db.stats().target);
});
