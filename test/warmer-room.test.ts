// The room gate against real processes on a small server (max_connections 40): while another client
// holds so many connections that the API's pool does not fit, the sidecar does not warm it (the pod
// stays unready, /status says it waits for room); once they are released it warms and turns ready.
// With a short WARM_ROOM_TIMEOUT_MS it warms anyway and says so.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import mysql from 'mysql2/promise';
import { connectionOptions } from '@mokakbab/config';
import { createTestDatabase, getJson, waitFor, type TestDatabase } from '@mokakbab/testkit';
import { startApi, startWarmer, type ApiProcess, type WarmerProcess } from './helpers/processes.js';
import { uniqueSlotPrefix } from './helpers/slots.js';

const MAX_CONNECTIONS = 40;
const RESERVED = 5;
const POOL_SIZE = 10;
/** Free connections the test leaves (by the gate's count) while it crowds the server: fewer than POOL_SIZE. */
const LEFT_FREE = 3;

let db: TestDatabase;
let api: ApiProcess;
const warmers: WarmerProcess[] = [];
const crowd: mysql.Connection[] = [];

before(async () => {
  db = await createTestDatabase({ migrate: true, serverOptions: { max_connections: MAX_CONNECTIONS } });
  api = await startApi({ databaseUrl: db.url, env: { DB_POOL_SIZE: String(POOL_SIZE) } });
});
after(async () => {
  await Promise.all(warmers.map((w) => w.stop()));
  await api?.stop();
  await releaseCrowd();
  await db?.close();
});

const threadsConnected = async () =>
  Number((await db.query<{ Value: string }[]>("SHOW GLOBAL STATUS LIKE 'Threads_connected'"))[0]!.Value);

/**
 * Opens connections until the gate's free count, with the warmer's own slot session counted, is
 * LEFT_FREE: max_connections - reserved - (connected now + the slot session + crowd) = LEFT_FREE.
 */
async function crowdServer(leftFree = LEFT_FREE): Promise<void> {
  const count = MAX_CONNECTIONS - RESERVED - (await threadsConnected()) - 1 - leftFree;
  assert.ok(count > 0, `the server is already too full to crowd (${count})`);
  for (let i = 0; i < count; i++) crowd.push(await mysql.createConnection(connectionOptions(db.url)));
}

async function releaseCrowd(): Promise<void> {
  await Promise.all(crowd.splice(0).map((c) => c.end()));
}

const poolOf = async () =>
  (await getJson<{ target: number; total: number; warm: boolean }>(`${api.adminUrl}/pool`)).body;

const startSidecar = async (env: Record<string, string>, target: ApiProcess = api) => {
  const w = await startWarmer({
    DATABASE_URL: db.url.href,
    WARMER_TARGET: target.adminUrl,
    WARMER_TARGET_PUBLIC: target.url,
    WARM_SLOTS: '1',
    WARM_SLOT_PREFIX: uniqueSlotPrefix(),
    DB_RESERVED_CONNECTIONS: String(RESERVED),
    ...env,
  });
  warmers.push(w);
  return w;
};

const roomMetrics = async (w: WarmerProcess) => {
  const text = await (await fetch(`${w.url}/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
  return {
    waitingForRoom: Number(/^warmer_targets\{phase="waiting-for-room"\} (\S+)$/m.exec(text)?.[1]),
    waits: value('warmer_room_wait_seconds_count'),
    timeouts: value('warmer_room_timeouts_total'),
  };
};

test('no room for the pool: not warmed, not ready, waiting for room; room freed: warmed and ready', async () => {
  await crowdServer();
  const warmer = await startSidecar({ WARM_ROOM_TIMEOUT_MS: '600000' });
  const waiting = await waitFor('the warmer waiting for room', async () => {
    const [t] = (await warmer.status()).targets;
    return t?.phase === 'waiting-for-room' && t.room ? t : undefined;
  });
  assert.equal(waiting.room?.need, POOL_SIZE);
  assert.equal(waiting.room?.verdict, 'waiting');
  assert.equal(waiting.room?.maxConnections, MAX_CONNECTIONS);
  assert.equal(waiting.room?.reserved, RESERVED);
  assert.equal(waiting.room?.free, LEFT_FREE);
  assert.match(waiting.lastError ?? '', /no room on the server: 3 connections free, this pool needs 10/);
  assert.equal(waiting.slot, null, 'a warm-up that waits for room gives its slot back');
  // It keeps checking, and keeps not warming.
  await waitFor('a second room check', async () => {
    const [t] = (await warmer.status()).targets;
    return t?.room && t.room.checkedAt !== waiting.room?.checkedAt ? true : undefined;
  });
  const cold = await warmer.ready();
  assert.equal(cold.status, 503);
  assert.deepEqual(cold.body.reasons, [
    { id: waiting.id, phase: 'waiting-for-room', lastError: (await warmer.status()).targets[0]!.lastError },
  ]);
  const pool = await poolOf();
  assert.equal(pool.warm, false);
  assert.equal(pool.total, 0, 'no connection of the pool was opened');
  assert.equal((await getJson(`${api.url}/health/ready`)).status, 503);
  assert.equal((await roomMetrics(warmer)).waitingForRoom, 1);
  assert.equal(warmer.logs.filter((l) => l.msg === 'waiting for room on the server').length, 1, 'one line per change');

  await releaseCrowd();
  await waitFor('the warmer ready', async () => ((await warmer.ready()).status === 200 ? true : undefined), 30_000);
  const warm = await poolOf();
  assert.equal(warm.warm, true);
  assert.equal(warm.total, POOL_SIZE);
  const [t] = (await warmer.status()).targets;
  assert.equal(t?.room?.verdict, 'room');
  assert.ok((t?.timings.roomWaitMs ?? 0) > 0);
  assert.equal(t?.lastError, null);
  assert.deepEqual(await roomMetrics(warmer), { waitingForRoom: 0, waits: 1, timeouts: 0 });
  assert.equal(warmer.logs.filter((l) => l.msg === 'room on the server: warming').length, 1);
  await warmer.stop();
});

test('no room within WARM_ROOM_TIMEOUT_MS: it warms anyway and says so', async () => {
  // A new process: a cold pool again, warmed by a new warmer.
  api = await restartApiCold(api);
  await crowdServer();
  const warmer = await startSidecar({ WARM_ROOM_TIMEOUT_MS: '1500' });
  await waitFor('the warmer waiting for room', async () =>
    (await warmer.status()).targets[0]?.phase === 'waiting-for-room' ? true : undefined,
  );
  assert.equal((await poolOf()).total, 0);
  await waitFor('the warmer ready', async () => ((await warmer.ready()).status === 200 ? true : undefined), 30_000);
  // The crowd is still there: the pool ate into the reserve, which is what the timeout allows.
  const [t] = (await warmer.status()).targets;
  assert.equal(t?.room?.verdict, 'timeout');
  assert.ok((t?.timings.roomWaitMs ?? 0) >= 1500);
  assert.equal((await poolOf()).warm, true);
  const metrics = await roomMetrics(warmer);
  assert.equal(metrics.timeouts, 1);
  assert.equal(metrics.waits, 1);
  const line = warmer.logs.find((l) => /after WARM_ROOM_TIMEOUT_MS: warming anyway/.test(String(l.msg)));
  assert.ok(line, 'the timeout is logged');
  assert.equal(line.level, 40, 'as a warning');
  await warmer.stop();
  await releaseCrowd();
});

test('two pods, room for one pool: one warms, the other waits for room; no deadlock, no double spend', async () => {
  api = await restartApiCold(api);
  const second = await startApi({ databaseUrl: db.url, env: { DB_POOL_SIZE: String(POOL_SIZE) } });
  after(() => second.stop());
  // Room for one pool and a half: whichever checks first warms; the other then finds too little.
  await crowdServer(POOL_SIZE + POOL_SIZE / 2);
  const env = { WARM_SLOTS: '2', WARM_SLOT_PREFIX: uniqueSlotPrefix(), WARM_ROOM_TIMEOUT_MS: '600000' };
  const pair = [await startSidecar(env, api), await startSidecar(env, second)];
  const phases = async () => Promise.all(pair.map(async (w) => (await w.status()).targets[0]?.phase));
  await waitFor('one ready, one waiting for room', async () => {
    const p = (await phases()).sort();
    return p[0] === 'ready' && p[1] === 'waiting-for-room' ? true : undefined;
  });
  const waiting = (await phases()).indexOf('waiting-for-room');
  const [t] = (await pair[waiting]!.status()).targets;
  // It keeps checking and keeps finding less than a pool.
  await waitFor('another room check', async () => {
    const [now] = (await pair[waiting]!.status()).targets;
    return now?.room && now.room.checkedAt !== t?.room?.checkedAt ? now : undefined;
  });
  const [still] = (await pair[waiting]!.status()).targets;
  assert.equal(still?.phase, 'waiting-for-room');
  assert.ok((still?.room?.free ?? POOL_SIZE) < POOL_SIZE, `free ${still?.room?.free}`);
  const cold = [api, second][waiting]!;
  assert.equal((await getJson<{ total: number }>(`${cold.adminUrl}/pool`)).body.total, 0);

  await releaseCrowd();
  await waitFor('both ready', async () => ((await phases()).every((p) => p === 'ready') ? true : undefined), 30_000);
  await Promise.all(pair.map((w) => w.stop()));
});

async function restartApiCold(old: ApiProcess): Promise<ApiProcess> {
  await old.stop();
  return startApi({ databaseUrl: db.url, env: { DB_POOL_SIZE: String(POOL_SIZE) } });
}
