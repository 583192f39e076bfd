// The self-warm: before an instance reports ready it runs the hot read routes through the whole
// stack (auth included) WARM_REQUESTS times each; 0 skips it; a second warm-up does not repeat it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { TestDatabase } from '@mokakbab/testkit';
import { build, seededDatabase } from './helper.js';

let db: TestDatabase;
before(async () => {
  db = await seededDatabase();
});
after(() => db.close());

interface WarmedLine {
  msg: string;
  statuses?: Record<string, number>;
}

const warmedLines = (lines: string[]) =>
  lines.map((l) => JSON.parse(l) as WarmedLine).filter((l) => l.msg === 'hot routes warmed');

test('ready comes after the hot routes ran WARM_REQUESTS times each, all answered 200, once per process', async (t) => {
  const lines: string[] = [];
  const { app } = await build(t, db, { env: { WARM_REQUESTS: '5', LOG_LEVEL: 'info' }, logLines: lines, warm: false });
  assert.equal(app.readiness.status, 'warming');
  await app.warmUp();
  assert.equal(app.readiness.status, 'ready');
  // Articles page, article by id and the authenticated participants page: 5 each.
  assert.deepEqual(
    warmedLines(lines).map((l) => l.statuses),
    [{ 200: 15 }],
  );
  await app.warmUp();
  assert.equal(warmedLines(lines).length, 1);
});

test('WARM_REQUESTS=0 skips the self-warm', async (t) => {
  const lines: string[] = [];
  await build(t, db, { env: { WARM_REQUESTS: '0', LOG_LEVEL: 'info' }, logLines: lines });
  assert.deepEqual(warmedLines(lines), []);
});
