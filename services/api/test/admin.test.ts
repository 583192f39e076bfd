import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { waitFor, type TestDatabase } from '@mokakbab/testkit';
import { bearer, build, errorBody, seededDatabase, signIn, type TestApi, closeAll } from './helper.js';

let db: TestDatabase;
let api: TestApi;
const logLines: string[] = [];

before(async () => {
  db = await seededDatabase({ members: 5, articles: 5, participations: 10 });
  api = await build(undefined, db, { warm: false, env: { LOG_LEVEL: 'info' }, logLines });
});

after(() => closeAll(api, db));

test('ready is 503 before the warm-up, POST /pool/warm fills the pool, then ready is 200 and latched', async () => {
  const live = await api.app.inject({ method: 'GET', url: '/health/live' });
  assert.equal(live.statusCode, 200);
  assert.deepEqual(live.json(), { status: 'ok' });

  const before = await api.app.inject({ method: 'GET', url: '/health/ready' });
  assert.equal(before.statusCode, 503);
  assert.deepEqual(before.json(), { status: 'warming' });
  const cold = (await api.admin.inject({ method: 'GET', url: '/pool' })).json();
  assert.equal(cold.warm, false);

  const warm = await api.admin.inject({ method: 'POST', url: '/pool/warm' });
  assert.equal(warm.statusCode, 200);
  const stats = warm.json();
  assert.equal(stats.warm, true);
  assert.equal(stats.target, 4);
  assert.equal(stats.total, 4);
  assert.ok(stats.maxConnecting <= api.config.warmConcurrency);
  assert.ok(!Number.isNaN(Date.parse(stats.warmedAt)));

  const ready = await api.app.inject({ method: 'GET', url: '/health/ready' });
  assert.equal(ready.statusCode, 200);
  assert.deepEqual(ready.json(), { status: 'ready' });

  const warmLine = logLines.map((l) => JSON.parse(l)).find((l) => l.msg === 'pool warm');
  assert.ok(warmLine, 'a "pool warm" log line');
  assert.equal(warmLine.total, 4);

  // A database blip after the first warm-up does not make the instance unready.
  await db.killConnections();
  const still = await api.app.inject({ method: 'GET', url: '/health/ready' });
  assert.equal(still.statusCode, 200);
  const list = await api.app.inject({ method: 'GET', url: '/articles' });
  assert.equal(list.statusCode, 200);
});

test('GET /pool serves every PoolStats field', async () => {
  const res = await api.admin.inject({ method: 'GET', url: '/pool' });
  assert.equal(res.statusCode, 200);
  assert.deepEqual(Object.keys(res.json()).sort(), [
    'busy',
    'connectErrors',
    'connecting',
    'degraded',
    'idle',
    'lastError',
    'lastWarmMs',
    'maxConnecting',
    'queued',
    'recycled',
    'replaced',
    'target',
    'total',
    'warm',
    'warmedAt',
  ]);
});

test('GET /metrics has pool gauges, JWT cache counters, HTTP durations by route, event-loop lag', async () => {
  const { accessToken } = await signIn(api.app, 1);
  for (let i = 0; i < 3; i++) {
    const res = await api.app.inject({
      method: 'GET',
      url: '/participations/articles/1',
      headers: bearer(accessToken),
    });
    assert.equal(res.statusCode, 200);
  }
  const res = await api.admin.inject({ method: 'GET', url: '/metrics' });
  assert.equal(res.statusCode, 200);
  assert.match(res.headers['content-type'] as string, /^text\/plain/);
  const text = res.body;
  assert.match(text, /^db_pool_target_connections 4$/m);
  assert.match(text, /^db_pool_total_connections \d+$/m);
  assert.match(text, /^db_pool_warm 1$/m);
  assert.match(text, /^db_pool_warm_duration_seconds_count 1$/m);
  assert.match(text, /^# TYPE db_pool_connect_errors_total counter$/m);
  assert.match(text, /^jwt_cache_hits_total 2$/m);
  assert.match(text, /^jwt_cache_misses_total 1$/m);
  assert.match(text, /^jwt_cache_size 1$/m);
  assert.match(
    text,
    /^http_request_duration_seconds_count\{method="GET",route="\/participations\/articles\/:articleId",status_code="200"\} 3$/m,
  );
  assert.match(text, /^nodejs_eventloop_lag_seconds /m);
});

test('an unknown admin route is 404 in the error shape', async () => {
  const res = await api.admin.inject({ method: 'GET', url: '/nope' });
  assert.equal(res.statusCode, 404);
  assert.equal(errorBody(res).code, 'NOT_FOUND');
});

test('when every connection is held, a request gets 503 with Retry-After within the acquire timeout', async (t) => {
  const small = await build(t, db, {
    env: { DB_POOL_SIZE: '2', DB_ACQUIRE_TIMEOUT_MS: '300', DB_CONNECT_TIMEOUT_MS: '200', DB_QUEUE_LIMIT: '10' },
  });
  const order: string[] = [];
  // Reads: writes may hold only the pool less its read reserve (DB_READ_RESERVE_PERCENT).
  const sleeps = [1, 2].map(() => small.app.db.readHere('SELECT SLEEP(2)').then(() => order.push('sleep done')));
  await waitFor('both connections busy', () => small.app.db.stats().busy === 2);
  const res = await small.app.inject({ method: 'GET', url: '/articles' });
  order.push(`request ${res.statusCode}`);
  await Promise.all(sleeps);
  assert.equal(res.statusCode, 503);
  assert.equal(res.headers['retry-after'], '1');
  assert.equal(errorBody(res).code, 'ACQUIRE_TIMEOUT');
  assert.deepEqual(order, ['request 503', 'sleep done', 'sleep done']);
});
