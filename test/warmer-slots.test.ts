// Fleet warm slots across processes: 4 APIs (pool 10 each) with 4 sidecar warmers. With
// WARM_SLOTS=1 no two warm-ups overlap in time; with WARM_SLOTS=4 they do. Handshakes are slowed
// (init_connect on a dedicated server) and each API opens one at a time, so a warm-up lasts ~2 s.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestDatabase, slowHandshakes, type TestDatabase, waitFor } from '@mokakbab/testkit';
import {
  restartApi,
  startApi,
  startWarmer,
  type ApiProcess,
  type TargetStatusBody,
  type WarmerProcess,
} from './helpers/processes.js';
import { holdSlots, uniqueSlotPrefix } from './helpers/slots.js';

const APIS = 4;
const HANDSHAKE_DELAY_MS = 200;
/** Handshakes one API opens at once while it warms (DB_WARM_CONCURRENCY). */
const WARM_CONCURRENCY = 1;
let db: TestDatabase;
let apis: ApiProcess[] = [];

before(async () => {
  db = await createTestDatabase({ serverOptions: { max_connections: 200 } });
  const appUrl = await slowHandshakes(db, HANDSHAKE_DELAY_MS);
  apis = await Promise.all(
    Array.from({ length: APIS }, () =>
      startApi({ databaseUrl: appUrl, env: { DB_POOL_SIZE: '10', DB_WARM_CONCURRENCY: String(WARM_CONCURRENCY) } }),
    ),
  );
});
after(async () => {
  await Promise.all(apis.map((a) => a.stop()));
  await db?.close();
});

interface Interval {
  id: string;
  start: number;
  end: number;
  maxConnecting: number;
}

/** Lines up one warmer per API in waiting-for-slot, frees all slots at once, waits for all ready. */
async function warmAll(k: number): Promise<{ targets: TargetStatusBody[]; readyMs: number }> {
  const prefix = uniqueSlotPrefix();
  const release = await holdSlots(db, prefix, k);
  let warmers: WarmerProcess[] = [];
  try {
    warmers = await Promise.all(
      apis.map((api) =>
        startWarmer({
          DATABASE_URL: db.url.href,
          WARMER_TARGET: api.adminUrl,
          WARMER_TARGET_PUBLIC: api.url,
          WARM_SLOTS: String(k),
          WARM_SLOT_PREFIX: prefix,
        }),
      ),
    );
    for (const w of warmers) {
      await waitFor('a warmer waiting for a slot', async () =>
        (await w.status()).targets[0]?.phase === 'waiting-for-slot' ? true : undefined,
      );
    }
    const releasedAt = Date.now();
    await release();
    for (const w of warmers) {
      await waitFor('every warmer ready', async () => ((await w.ready()).status === 200 ? true : undefined), 60_000);
    }
    const readyMs = Date.now() - releasedAt;
    const targets = await Promise.all(warmers.map(async (w) => (await w.status()).targets[0]!));
    return { targets, readyMs };
  } finally {
    await release();
    await Promise.all(warmers.map((w) => w.stop()));
  }
}

function intervals(targets: TargetStatusBody[]): Interval[] {
  return targets
    .map((t) => ({
      id: t.id,
      start: Date.parse(t.timings.warmStartedAt!),
      end: Date.parse(t.timings.warmEndedAt!),
      maxConnecting: t.pool?.maxConnecting ?? 0,
    }))
    .sort((a, b) => a.start - b.start);
}

/** The largest sum of maxConnecting over warm-ups in flight at the same moment. */
function peakHandshakes(list: Interval[]): number {
  return Math.max(
    ...list.map((at) =>
      list.filter((i) => i.start <= at.start && at.start < i.end).reduce((sum, i) => sum + i.maxConnecting, 0),
    ),
  );
}

function checkAllWarm(targets: TargetStatusBody[]): void {
  for (const t of targets) {
    assert.equal(t.ready, true, `${t.id} ready`);
    assert.equal(t.pool?.total, 10);
    assert.equal(t.pool?.target, 10);
  }
}

test('WARM_SLOTS=1: no two of 4 warm-ups overlap, and all end ready', async () => {
  const { targets, readyMs } = await warmAll(1);
  checkAllWarm(targets);
  const list = intervals(targets);
  for (let i = 1; i < list.length; i++) {
    assert.ok(list[i - 1]!.end <= list[i]!.start, `warm-ups overlap: ${JSON.stringify(list)}`);
  }
  const peak = peakHandshakes(list);
  assert.ok(
    peak >= 1 && peak <= WARM_CONCURRENCY,
    `one API's handshakes at a time, saw ${peak}: ${JSON.stringify(list)}`,
  );
  console.log(
    `[measure] time to ready, 4 APIs, K=1: ${readyMs} ms (warm-ups ${list.map((i) => i.end - i.start).join('/')} ms)`,
  );
  console.log(
    `[measure] largest handshakes in flight at once, K=1: ${peak} (sum of maxConnecting, DB_WARM_CONCURRENCY=${WARM_CONCURRENCY})`,
  );
});

test('WARM_SLOTS=4: warm-ups overlap, and all end ready', async () => {
  apis = await Promise.all(apis.map((a) => restartApi(a))); // cold pools again
  const { targets, readyMs } = await warmAll(4);
  checkAllWarm(targets);
  const list = intervals(targets);
  const overlapping = list.some((a, i) => list.slice(i + 1).some((b) => b.start < a.end));
  assert.ok(overlapping, `no two warm-ups overlap: ${JSON.stringify(list)}`);
  const peak = peakHandshakes(list);
  assert.ok(peak > 1, `overlapping warm-ups must also overlap their handshakes, saw ${peak}: ${JSON.stringify(list)}`);
  console.log(
    `[measure] time to ready, 4 APIs, K=4: ${readyMs} ms (warm-ups ${list.map((i) => i.end - i.start).join('/')} ms)`,
  );
  console.log(
    `[measure] largest handshakes in flight at once, K=4: ${peak} (sum of maxConnecting, DB_WARM_CONCURRENCY=${WARM_CONCURRENCY})`,
  );
});
