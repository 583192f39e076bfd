// Restart detection against a stand-in of the admin contract: an API that restarted and warmed on
// boot between two polls shows only as a new `warmedAt`; the target must verify (and replay) again,
// without a slot because the pool is already warm.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import type { PoolStats } from '@mokakbab/contracts';
import { freePort, waitFor } from '@mokakbab/testkit';
import { getJson, startTestWarmer } from './helper.js';

// A full answer of the admin contract: the warmer validates every field.
const WARM_POOL: PoolStats = {
  target: 10,
  total: 10,
  idle: 10,
  busy: 0,
  connecting: 0,
  queued: 0,
  warm: true,
  degraded: false,
  warmedAt: null,
  maxConnecting: 1,
  recycled: 0,
  replaced: 0,
  connectErrors: {},
  lastError: null,
  lastWarmMs: 5,
};

interface TargetBody {
  phase: string;
  ready: boolean;
  attempts: number;
  lastError: string | null;
  pool: { warmedAt: string | null } | null;
}

test('a new warmedAt on a warm pool re-runs verifying and the replay, with no slot', async (t) => {
  let warmedAt = '2025-01-01T00:00:00.000Z';
  const seen = { warm: 0, replay: 0 };
  const server = createServer((req, res) => {
    if (req.method === 'POST') seen.warm++;
    if (req.url === '/health/live') seen.replay++;
    const body = req.url === '/pool' ? { ...WARM_POOL, warmedAt } : { status: 'ok' };
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // Nothing listens there: a target that asked for a slot would never get ready.
  const unreachableDb = `mysql://root@127.0.0.1:${await freePort()}/nothing`;
  const w = await startTestWarmer({
    DATABASE_URL: unreachableDb,
    WARMER_TARGET: url,
    WARMER_TARGET_PUBLIC: url,
    WARMER_WATCH_INTERVAL_MS: '50',
    WARMER_REPLAY: '[{"method":"GET","path":"/health/live","expectStatus":200}]',
    WARMER_REPLAY_DURATION_MS: '0',
  });
  t.after(() => w.close());
  const target = async () => ((await getJson(`${w.url}/status`)).body.targets as TargetBody[])[0]!;

  const first = await waitFor('ready', async () => ((await target()).ready ? target() : undefined));
  assert.equal(first.pool?.warmedAt, warmedAt);
  const replaysBefore = seen.replay;
  assert.ok(replaysBefore > 0);

  warmedAt = '2025-01-01T00:01:00.000Z'; // the API restarted and warmed itself between two polls
  const again = await waitFor('ready again after a new cycle', async () => {
    const tg = await target();
    return tg.ready && tg.attempts > first.attempts ? tg : undefined;
  });
  assert.equal(again.pool?.warmedAt, warmedAt);
  assert.ok(seen.replay > replaysBefore, 'the replay ran again for the new process');
  assert.equal(seen.warm, 0, 'a warm pool is never warmed again');
  assert.equal(w.warmer.status().slots.connected, false);
  assert.equal(w.warmer.status().slots.lastError, null, 'no slot was ever asked for');
  const metrics = await (await fetch(`${w.url}/metrics`)).text();
  assert.match(metrics, /warmer_errors_total\{kind="restart"\} [1-9]/);
});

test('an admin port that never answered is logged at info while the API may still be starting, then warned', async (t) => {
  const lines: Record<string, unknown>[] = [];
  const adminPort = await freePort();
  const w = await startTestWarmer(
    {
      DATABASE_URL: `mysql://root@127.0.0.1:${await freePort()}/nothing`,
      WARMER_TARGET: `http://127.0.0.1:${adminPort}`,
      WARMER_WARM_TIMEOUT_MS: '400',
    },
    lines,
  );
  t.after(() => w.close());
  const notReady = () => lines.filter((l) => l.msg === 'target not ready');
  const warned = await waitFor('a warning once the warm timeout has passed', async () =>
    notReady().find((l) => l.level === 40),
  );
  const first = notReady()[0]!;
  assert.equal(first.level, 30, 'the first refused connection is expected: info');
  assert.equal(first.kind, 'admin-unreachable');
  assert.equal(warned.kind, 'admin-unreachable');
  assert.equal(notReady().filter((l) => l.level === 40).length, 1, 'retries with the same reason stay quiet');
});
