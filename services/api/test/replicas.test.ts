// Read replicas on real replication (a MariaDB primary and two GTID replicas on loopback): routing
// by per-server Com_select, read-your-writes, lag ejection, a replica killed and back, and every
// replica down. The figures print as `# [measure]` lines.
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, before, describe, test, type TestContext } from 'node:test';
import { loadApiConfig } from '@mokakbab/config';
import { migrate, seed } from '@mokakbab/db';
import { startReplicationSet, waitFor, type ReplicaServer, type ReplicationSet } from '@mokakbab/testkit';
import type { FastifyInstance } from 'fastify';
import { createLogger } from '../src/lifecycle/server-options.js';
import { buildInstances } from '../src/lifecycle/instances.js';
import type { ReplicaStats } from '../src/db/replicas.js';
import { bearer, signIn, testEnv } from './helper.js';

const DATABASE = 'replicated';
const READS = 60;

interface Api {
  app: FastifyInstance;
  admin: FastifyInstance;
}

let set: ReplicationSet;

function urlOf(server: { url: URL }): URL {
  const url = new URL(server.url.href);
  url.pathname = `/${DATABASE}`;
  return url;
}

async function buildApi(t: TestContext, env: Record<string, string> = {}): Promise<Api> {
  const config = loadApiConfig(
    testEnv(
      { url: urlOf(set.primary) },
      { DATABASE_REPLICA_URLS: set.replicas.map((r) => r.urlFor(DATABASE).href).join(','), ...env },
    ),
  );
  const { app, admin } = await buildInstances(config, createLogger(config));
  t.after(async () => {
    await app.close();
    await admin.close();
  });
  await app.warmUp();
  return { app, admin };
}

async function comSelect(query: ReplicationSet['query'] | ReplicaServer['query']): Promise<number> {
  const [row] = await query<{ Value: string }[]>("SHOW GLOBAL STATUS LIKE 'Com_select'");
  return Number(row!.Value);
}

/** Com_select on the primary and each replica. */
async function selects(): Promise<number[]> {
  return Promise.all([comSelect(set.query), ...set.replicas.map((r) => comSelect(r.query))]);
}

async function replicaStats(api: Api): Promise<ReplicaStats[]> {
  const res = await api.admin.inject({ url: '/pool' });
  assert.equal(res.statusCode, 200);
  return res.json<{ replicas: ReplicaStats[] }>().replicas;
}

async function readArticles(api: Api, count: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < count; i++)
    statuses.push((await api.app.inject({ url: `/articles/${1 + (i % 10)}` })).statusCode);
  return statuses;
}

const serverOf = (r: ReplicaServer) => `127.0.0.1:${r.server.port}`;

async function waitForState(api: Api, replica: ReplicaServer, state: string, timeoutMs = 10_000): Promise<number> {
  const startedAt = performance.now();
  await waitFor(
    `${serverOf(replica)} ${state}`,
    async () => (await replicaStats(api)).find((r) => r.server === serverOf(replica))?.state === state,
    timeoutMs,
  );
  return Math.round(performance.now() - startedAt);
}

describe('read replicas on real replication', () => {
  before(async () => {
    set = await startReplicationSet({ replicas: 2 });
    await set.query(`CREATE DATABASE ${DATABASE} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    await migrate(urlOf(set.primary));
    await seed(urlOf(set.primary), { members: 20, articles: 10, participations: 20 });
    await set.waitForCatchUp();
  });
  after(() => set?.stop());

  test('idempotent reads go to the replicas, spread evenly; /pool and /metrics show every pool', async (t) => {
    const api = await buildApi(t, { REPLICA_MAX_LAG_MS: '5000' });
    const stats = await replicaStats(api);
    assert.deepEqual(
      stats.map((r) => [r.server, r.state, r.warm, r.total]),
      set.replicas.map((r) => [serverOf(r), 'serving', true, 4]),
    );
    const before = await selects();
    const statuses = await readArticles(api, READS);
    const [primary, r1, r2] = (await selects()).map((n, i) => n - before[i]!);
    assert.deepEqual(new Set(statuses), new Set([200]));
    t.diagnostic(
      `[measure] routing, ${READS} GET /articles/:id: Com_select primary +${primary}, replica1 +${r1}, replica2 +${r2}`,
    );
    // The lag probe adds about one SELECT per second per server; the reads themselves are split evenly.
    assert.ok(primary! <= 3, `primary ran ${primary} selects`);
    for (const n of [r1!, r2!]) assert.ok(n >= READS / 2 && n <= READS / 2 + 3, `a replica ran ${n} selects`);

    const metrics = (await api.admin.inject({ url: '/metrics' })).body;
    for (const r of set.replicas) {
      assert.match(metrics, new RegExp(`db_replica_state\\{server="${serverOf(r)}",state="serving"\\} 1`));
      assert.match(metrics, new RegExp(`db_replica_lag_seconds\\{server="${serverOf(r)}"\\} \\d`));
      assert.match(metrics, new RegExp(`db_replica_pool_total_connections\\{server="${serverOf(r)}"\\} 4`));
    }
  });

  test('writes stay on the primary, and a member who wrote reads their write back although the replicas have not applied it', async (t) => {
    const api = await buildApi(t, { REPLICA_MAX_LAG_MS: '5000' });
    const writer = await signIn(api.app, 1);
    const other = await signIn(api.app, 2);
    // Replicas receive the write but do not apply it: any read they answer is stale.
    await Promise.all(set.replicas.map((r) => r.query('STOP SLAVE SQL_THREAD')));
    t.after(() => Promise.all(set.replicas.map((r) => r.query('START SLAVE SQL_THREAD'))));
    const nickname = `ryw-${Date.now()}`;
    const patched = await api.app.inject({
      method: 'PATCH',
      url: '/members/1',
      headers: bearer(writer.accessToken),
      payload: { nickname },
    });
    assert.equal(patched.statusCode, 200, patched.body);
    const own = await api.app.inject({ url: '/members/1', headers: bearer(writer.accessToken) });
    const seenByOther = await api.app.inject({ url: '/members/1', headers: bearer(other.accessToken) });
    assert.equal(own.json<{ nickname: string }>().nickname, nickname, 'the writer reads their own write');
    assert.notEqual(seenByOther.json<{ nickname: string }>().nickname, nickname, 'another member reads a replica');
    const router = api.app.replicas!;
    t.diagnostic(`[measure] read-your-writes: the writer reads the primary for ${router.stickyMs} ms after a write`);
  });

  test('a replica that stops applying leaves the rotation above REPLICA_MAX_LAG_MS and returns once caught up', async (t) => {
    const maxLagMs = 500;
    const api = await buildApi(t, { REPLICA_MAX_LAG_MS: String(maxLagMs) });
    const [stalled] = set.replicas as [ReplicaServer, ReplicaServer];
    await stalled.query('STOP SLAVE SQL_THREAD');
    t.after(() => stalled.query('START SLAVE SQL_THREAD'));
    await set.query(`UPDATE ${DATABASE}.article SET title = CONCAT(title, '.') WHERE id = 1`);
    const leftAfterMs = await waitForState(api, stalled, 'lagging');
    const lagAtEjection = (await replicaStats(api)).find((r) => r.server === serverOf(stalled))!.lagMs!;
    assert.ok(lagAtEjection > maxLagMs);

    const before = await selects();
    assert.deepEqual(new Set(await readArticles(api, READS)), new Set([200]));
    const deltas = (await selects()).map((n, i) => n - before[i]!);
    assert.ok(deltas[1]! <= 3, `the lagging replica ran ${deltas[1]} selects`);
    assert.ok(deltas[2]! >= READS, `the healthy replica ran ${deltas[2]} selects`);

    await stalled.query('START SLAVE SQL_THREAD');
    const backAfterMs = await waitForState(api, stalled, 'serving');
    t.diagnostic(
      `[measure] lag ejection (REPLICA_MAX_LAG_MS=${maxLagMs}): out ${leftAfterMs} ms after the write at lag ${lagAtEjection} ms;` +
        ` ${READS} reads then: lagging +${deltas[1]}, healthy +${deltas[2]} Com_select; back ${backAfterMs} ms after START SLAVE SQL_THREAD`,
    );
  });

  test('a statement over the time limit fails as on the primary and does not move the replica out', async (t) => {
    const api = await buildApi(t, { DB_QUERY_TIMEOUT_MS: '300' });
    const before = await selects();
    // 1969: MariaDB's max_statement_time; 3024: MySQL's max_execution_time.
    await assert.rejects(api.app.db.read('SELECT SLEEP(2)'), (err: { errno?: number }) =>
      [1969, 3024].includes(err.errno ?? 0),
    );
    const [primary, ...onReplicas] = (await selects()).map((n, i) => n - before[i]!);
    assert.ok(primary! <= 1, `the primary ran ${primary} selects (the slow read must not move there)`);
    assert.ok(onReplicas.reduce((a, b) => a + b, 0) >= 1);
    assert.deepEqual(
      (await replicaStats(api)).map((r) => r.state),
      ['serving', 'serving'],
    );
  });

  test('a replica that stops answering (SIGSTOP): reads move within the statement deadline, no 5xx', async (t) => {
    const queryTimeoutMs = 500;
    const api = await buildApi(t, { DB_QUERY_TIMEOUT_MS: String(queryTimeoutMs) });
    const [frozen] = set.replicas as [ReplicaServer, ReplicaServer];
    process.kill(frozen.server.pid, 'SIGSTOP');
    t.after(() => process.kill(frozen.server.pid, 'SIGCONT'));
    const latenciesMs: number[] = [];
    const statuses: number[] = [];
    await Promise.all(
      Array.from({ length: 4 }, async (_, worker) => {
        for (let i = 0; i < 10; i++) {
          const startedAt = performance.now();
          const res = await api.app.inject({ url: `/articles/${1 + ((worker + i) % 10)}` });
          latenciesMs.push(performance.now() - startedAt);
          statuses.push(res.statusCode);
        }
      }),
    );
    const outAfterMs = await waitForState(api, frozen, 'down');
    process.kill(frozen.server.pid, 'SIGCONT');
    const backAfterMs = await waitForState(api, frozen, 'serving', 20_000);
    assert.deepEqual(new Set(statuses), new Set([200]));
    const slowestMs = Math.round(Math.max(...latenciesMs));
    // One wait for the frozen replica (the client's statement timer) and the read again elsewhere.
    assert.ok(slowestMs < queryTimeoutMs + 1_000, `slowest read ${slowestMs} ms`);
    t.diagnostic(
      `[measure] replica SIGSTOP: ${statuses.length} reads, all 200, slowest ${slowestMs} ms (DB_QUERY_TIMEOUT_MS=${queryTimeoutMs}); down ${outAfterMs} ms after the reads, back ${backAfterMs} ms after SIGCONT`,
    );
  });

  test('a replica killed with SIGKILL: reads carry on without a 5xx, it returns when it is back', async (t) => {
    const api = await buildApi(t);
    const [victim] = set.replicas as [ReplicaServer, ReplicaServer];
    let stop = false;
    const statuses: number[] = [];
    const reader = (async () => {
      while (!stop) statuses.push(...(await readArticles(api, 5)));
    })();
    await readArticles(api, 10);
    await victim.kill();
    const leftAfterMs = await waitForState(api, victim, 'down');
    await readArticles(api, 20);
    const restartedAt = performance.now();
    await victim.restart();
    await waitForState(api, victim, 'serving', 20_000);
    const backAfterMs = Math.round(performance.now() - restartedAt);
    const before = await comSelect(victim.query);
    await readArticles(api, 20);
    stop = true;
    await reader;
    const counts: Record<number, number> = {};
    for (const s of statuses) counts[s] = (counts[s] ?? 0) + 1;
    assert.deepEqual(Object.keys(counts), ['200'], `statuses ${JSON.stringify(counts)}`);
    assert.ok((await comSelect(victim.query)) - before >= 10, 'the restarted replica serves reads again');
    t.diagnostic(
      `[measure] replica SIGKILL: ${statuses.length} reads around it, all 200; out of rotation ${leftAfterMs} ms after the kill, back ${backAfterMs} ms after its restart`,
    );
  });

  test('a replica down at start: ready with DB_REPLICAS_REQUIRED=1, the replica joins when it answers', async (t) => {
    const [late, live] = set.replicas as [ReplicaServer, ReplicaServer];
    await late.kill();
    const startedAt = performance.now();
    const api = await buildApi(t, { DB_REPLICAS_REQUIRED: '1' });
    const readyMs = Math.round(performance.now() - startedAt);
    const lateStats = (await replicaStats(api)).find((r) => r.server === serverOf(late))!;
    assert.deepEqual([lateStats.state, lateStats.target], ['warming', 0]);
    const before = await comSelect(live.query);
    assert.deepEqual(new Set(await readArticles(api, 20)), new Set([200]));
    assert.ok((await comSelect(live.query)) - before >= 20, 'the live replica serves the reads');
    await late.restart();
    const joinedMs = await waitForState(api, late, 'serving', 30_000);
    const joined = await comSelect(late.query);
    await readArticles(api, 20);
    assert.ok((await comSelect(late.query)) - joined >= 10, 'the late replica serves reads once it joined');
    t.diagnostic(
      `[measure] replica down at start: ready in ${readyMs} ms without it; joined ${joinedMs} ms after its restart`,
    );
  });

  test('a replica whose max_connections cannot carry the fleet refuses the start (DB_PLAN_CHECK=refuse)', async (t) => {
    const [small] = set.replicas as [ReplicaServer, ReplicaServer];
    const [row] = await small.query<{ n: number }[]>('SELECT @@GLOBAL.max_connections AS n');
    await small.query('SET GLOBAL max_connections = 5');
    t.after(() => small.query(`SET GLOBAL max_connections = ${Number(row!.n)}`));
    // 5 connections minus the 10 reserved leave none for this instance: the primary's rule.
    await assert.rejects(buildApi(t), /Pool plan impossible: cannot give each instance a connection/);
  });

  test('every replica down: reads run on the primary, then move back', async (t) => {
    const api = await buildApi(t);
    await Promise.all(set.replicas.map((r) => r.kill()));
    const before = await comSelect(set.query);
    const statuses = await readArticles(api, READS);
    const onPrimary = (await comSelect(set.query)) - before;
    assert.deepEqual(new Set(statuses), new Set([200]));
    assert.ok(onPrimary >= READS, `the primary ran ${onPrimary} selects`);
    await Promise.all(set.replicas.map((r) => r.restart()));
    for (const r of set.replicas) await waitForState(api, r, 'serving', 20_000);
    t.diagnostic(`[measure] all replicas down: ${READS} reads, all 200, Com_select primary +${onPrimary}`);
  });
});
