// F10 and stale connections, on a small server (max_connections 12, wait_timeout 2 s) that no
// default plan fits: DB_PLAN_CHECK=warn runs with what is possible, refuse refuses, a pool the
// server cannot fully give is ready degraded and fills up later, and connections the server
// closed while idle cost no request.
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, before, test } from 'node:test';
import mysql from 'mysql2/promise';
import { connectionOptions } from '@mokakbab/config';
import { getJson, waitFor } from '@mokakbab/testkit';
import { spawnService, startApi, API_ENTRY, TEST_JWT_SECRET, type ApiProcess } from '../helpers/processes.js';
import { byStatus, closedLoop, startFaultServer, type FaultServer } from './lib/faults.js';

const measure = (text: string) => console.log(`[measure] ${text}`);
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Pool {
  target: number;
  total: number;
  degraded: boolean;
  warm: boolean;
}

let db: FaultServer;
const apis: ApiProcess[] = [];

before(async () => {
  db = await startFaultServer({ members: 5, articles: 5, participations: 5 }, { max_connections: 12, wait_timeout: 2 });
});
after(async () => {
  await Promise.all(apis.map((api) => api.stop('SIGKILL')));
  await db?.close();
});

async function readyApi(env: Record<string, string>): Promise<ApiProcess> {
  const api = await startApi({ databaseUrl: db.url, env: { WARM_ON_BOOT: 'true', DB_PLAN_CHECK: 'warn', ...env } });
  apis.push(api);
  await waitFor('the API is ready', async () =>
    (await getJson(`${api.url}/health/ready`)).status === 200 ? true : undefined,
  );
  return api;
}

const pool = async (api: ApiProcess) => (await getJson<Pool>(`${api.adminUrl}/pool`)).body;

test('F10: an impossible plan refuses with DB_PLAN_CHECK=refuse and runs with warn and DB_POOL_SIZE', async () => {
  // Reserving more than the server has leaves no plan at all.
  const env = { DB_RESERVED_CONNECTIONS: '50', DB_POOL_SIZE: '2' };
  const refused = spawnService(API_ENTRY, {
    DATABASE_URL: db.url.href,
    JWT_SECRET: TEST_JWT_SECRET,
    PORT: '0',
    ADMIN_PORT: '0',
    HOST: '127.0.0.1',
    ADMIN_HOST: '127.0.0.1',
    DB_PLAN_CHECK: 'refuse',
    ...env,
  });
  assert.equal(await refused.exited, 1, 'refuse exits 1');
  assert.match(refused.stderr() + JSON.stringify(refused.logs), /plan impossible/i);

  const api = await readyApi(env);
  const stats = await pool(api);
  assert.equal(stats.target, 2);
  assert.equal(stats.total, 2);
  assert.ok(api.logs.some((l) => /pool plan impossible/.test(String(l.msg)) && Number(l.level) === 40));
  await api.stop('SIGTERM');
});

test('F10: a pool larger than the server gives is ready degraded, says so, and fills up later', async () => {
  // Another client takes all but a few of the server's connections.
  const hogs: mysql.Connection[] = [];
  try {
    // Twice: sessions of the API stopped before may still be closing on the server at first.
    for (const settleMs of [0, 500]) {
      await pause(settleMs);
      for (let i = 0; i < 20; i++) {
        try {
          const hog = await mysql.createConnection(connectionOptions(db.url));
          // Outlives the server's 2 s wait_timeout, which is for the API's connections.
          await hog.query('SET SESSION wait_timeout = 600');
          hogs.push(hog);
        } catch (err) {
          assert.equal((err as { code?: string }).code, 'ER_CON_COUNT_ERROR');
          break;
        }
      }
    }
    assert.ok(hogs.length < 40, `the other client holds ${hogs.length}`);
    for (const conn of hogs.splice(0, 3)) await conn.end();
    const startedAt = performance.now();
    const api = await readyApi({ DB_POOL_SIZE: '6' });
    const readyMs = performance.now() - startedAt;
    const degraded = await pool(api);
    assert.equal(degraded.target, 6);
    assert.ok(degraded.total >= 1 && degraded.total < 6, `total ${degraded.total}`);
    assert.equal(degraded.degraded, true);
    assert.equal(degraded.warm, true);
    assert.ok(api.logs.some((l) => /serving degraded/.test(String(l.msg))));
    const metrics = await (await fetch(`${api.adminUrl}/metrics`)).text();
    assert.match(metrics, /^db_pool_degraded 1$/m);
    const res = await fetch(`${api.url}/articles/1`);
    assert.equal(res.status, 200, 'a degraded pool serves');

    const releasedAt = performance.now();
    for (const conn of hogs.splice(0)) await conn.end();
    await waitFor(
      'the pool is full',
      async () => {
        const s = await pool(api);
        return s.total === 6 && !s.degraded ? true : undefined;
      },
      15_000,
    );
    measure(
      `F10 degraded: ready in ${Math.round(readyMs)} ms with ${degraded.total}/6 connections; ` +
        `full ${Math.round(performance.now() - releasedAt)} ms after the other client let go`,
    );
    await api.stop('SIGTERM');
  } finally {
    await Promise.all(hogs.map((c) => c.end().catch(() => undefined)));
  }
});

test('stale connections: after the server closed every idle connection (wait_timeout 2 s), requests still succeed', async () => {
  const api = await readyApi({ DB_POOL_SIZE: '4' });
  await pause(3_000);
  const startedAt = Date.now();
  const samples = await closedLoop({
    origin: api.url,
    path: '/articles/1',
    workers: 4,
    stop: () => Date.now() - startedAt > 500,
  });
  measure(
    `stale connections: ${JSON.stringify(byStatus(samples))} after 3 s idle, first answer ${Math.round(samples[0]!.ms)} ms`,
  );
  assert.deepEqual(byStatus(samples), { 200: samples.length });
  const stats = await pool(api);
  assert.equal(stats.total, stats.target);
});
