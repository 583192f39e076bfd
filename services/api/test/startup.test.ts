import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { loadApiConfig } from '@mokakbab/config';
import { createTestDatabase, freePort, type TestDatabase } from '@mokakbab/testkit';
import { StartupError } from '../src/errors.js';
import { createLogger } from '../src/lifecycle/server-options.js';
import { buildInstances } from '../src/lifecycle/instances.js';
import { build, testEnv } from './helper.js';

// A dedicated server with few connections: max_connections 30 leaves 30 - 10 reserved - 1 warm slot
// = 19 connections per instance for one replica.
let db: TestDatabase;

before(async () => {
  db = await createTestDatabase({ serverOptions: { max_connections: 30, wait_timeout: 60 } });
});

after(async () => {
  await db?.close();
});

// A lifetime that fits wait_timeout 60 s (minus the 30 s margin), so only the size is at issue.
const FITTING_LIFETIME = { DB_MAX_LIFETIME_MS: '20000', DB_LIFETIME_JITTER_MS: '1000' };

async function start(env: Record<string, string>, lines?: string[]) {
  const config = loadApiConfig(testEnv(db, env));
  const destination = lines ? { write: (line: string) => void lines.push(line) } : undefined;
  return buildInstances(config, createLogger({ logLevel: 'info' }, destination));
}

test('DB_POOL_SIZE above the plan for this server: refused with the numbers (DB_PLAN_CHECK=refuse)', async () => {
  await assert.rejects(start({ ...FITTING_LIFETIME, DB_POOL_SIZE: '25', DB_PLAN_CHECK: 'refuse' }), (err: unknown) => {
    assert.ok(err instanceof StartupError);
    assert.match(err.message, /DB_POOL_SIZE=25 is above the plan's 19 per instance/);
    assert.match(err.message, /max_connections 30/);
    return true;
  });
});

test('a lifetime above the server wait_timeout is refused too', async () => {
  await assert.rejects(start({ DB_POOL_SIZE: '2', DB_MAX_LIFETIME_MS: '300000' }), /wait_timeout 60 s/);
});

test('the same with DB_PLAN_CHECK=warn starts, logs the plan once and the problem', async (t) => {
  const lines: string[] = [];
  const { app, admin } = await start({ ...FITTING_LIFETIME, DB_POOL_SIZE: '25', DB_PLAN_CHECK: 'warn' }, lines);
  t.after(async () => {
    await app.close();
    await admin.close();
  });
  assert.equal(app.db.stats().target, 25);
  const logged = lines.map((l) => JSON.parse(l));
  const plans = logged.filter((l) => l.msg === 'pool plan');
  assert.equal(plans.length, 1);
  assert.deepEqual([plans[0].perInstance, plans[0].fleetPeak, plans[0].headroom], [19, 19, 0]);
  const warning = logged.find((l) => l.msg.includes('does not fit'));
  assert.match(warning.problems[0], /DB_POOL_SIZE=25/);
});

test('POST /pool/warm on a server that cannot give the whole pool: ready with what it got, degraded', async (t) => {
  // 40 connections do not fit a server that accepts 30 (+1 for root): the pool takes what it gets.
  const api = await build(t, db, {
    warm: false,
    env: { ...FITTING_LIFETIME, DB_POOL_SIZE: '40', DB_PLAN_CHECK: 'warn', DB_WARM_TIMEOUT_MS: '1500' },
  });
  const res = await api.admin.inject({ method: 'POST', url: '/pool/warm' });
  assert.equal(res.statusCode, 200);
  const body = res.json();
  assert.equal(body.warm, true);
  assert.equal(body.degraded, true);
  assert.ok(body.total > 0 && body.total < 40);
  assert.equal(body.lastError.code, 'ER_CON_COUNT_ERROR');
  assert.ok(body.connectErrors.ER_CON_COUNT_ERROR > 0);
  const ready = await api.app.inject({ method: 'GET', url: '/health/ready' });
  assert.equal(ready.statusCode, 200);
  // Requests get served from the connections that did open.
  const list = await api.app.inject({ method: 'GET', url: '/articles' });
  assert.equal(list.statusCode, 200, list.body);
});

test('an unreachable server: retried until DB_WARM_TIMEOUT_MS, then a clear StartupError', async () => {
  const url = new URL(db.url.href);
  url.port = String(await freePort());
  const config = loadApiConfig(testEnv(db, { DATABASE_URL: url.href, DB_WARM_TIMEOUT_MS: '600' }));
  await assert.rejects(buildInstances(config, createLogger({ logLevel: 'silent' })), (err: unknown) => {
    assert.ok(err instanceof StartupError);
    assert.match(err.message, /unreachable \(ECONNREFUSED/);
    assert.match(err.message, /DB_WARM_TIMEOUT_MS=600/);
    return true;
  });
});
