// F5 (issue 8): SIGTERM while the instance is behind (open-loop load at twice what it served
// closed-loop) loses nothing: every request sent during the shutdown delay and the start of the
// drain gets an HTTP answer (its normal status, or 503 SHUTTING_DOWN with Connection: close), none is
// reset. A real API process, a real socket per connection, bounded to a few seconds of load.
// Deterministic on a loaded machine: the client never queues requests of its own (at most one per
// connection is outstanding; what is due beyond that counts as not sent, like a load balancer's
// overflow), so it stops opening connections as soon as it stops sending, however slow the server;
// and nothing is asserted about throughput, only that answers came.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { getJson, waitFor, type TestDatabase } from '@mokakbab/testkit';
import { seededDatabase } from '@mokakbab/api/test/helper';
import { startApi, type ApiProcess } from '../helpers/processes.js';

const DELAY_MS = 1_000;
const CAPACITY_PROBE_MS = 1_000;
const LOAD_BEFORE_SIGTERM_MS = 500;
// A load balancer stops sending soon after the delay; this much load overlaps the drain, well past
// the point where the requests in flight at its start are answered (a server that closed then would
// reset the connections still arriving), and well within the drain's bound on waiting for quiet.
const LOAD_AFTER_DRAIN_MS = 800;
const LOAD_CAP_MS = DELAY_MS + 2_000;
const CONNECTIONS = 256;
const PATHS = ['/articles?limit=50', '/articles/3', '/health/live'];

let db: TestDatabase;
let api: ApiProcess | undefined;

before(async () => {
  db = await seededDatabase({ members: 50, articles: 200, participations: 400 });
});

after(async () => {
  await api?.stop('SIGKILL');
  await db?.close();
});

interface Tally {
  statuses: Map<number, number>;
  /** 200s received after SIGTERM and before the first SHUTTING_DOWN: serving went on during the delay. */
  okDuringDelay: number;
  sigtermSent: boolean;
  outstanding: number;
  shuttingDown: number;
  shuttingDownWithoutClose: number;
  refused: number;
  lost: Map<string, number>;
}

function record(tally: Tally, outcome: Promise<{ status: number; code?: string; connection?: string }>) {
  tally.outstanding++;
  return outcome.then(
    ({ status, code, connection }) => {
      tally.outstanding--;
      tally.statuses.set(status, (tally.statuses.get(status) ?? 0) + 1);
      if (status === 200 && tally.sigtermSent && tally.shuttingDown === 0) tally.okDuringDelay++;
      if (code === 'SHUTTING_DOWN') {
        tally.shuttingDown++;
        if (connection !== 'close') tally.shuttingDownWithoutClose++;
      }
    },
    (err: { code?: string; cause?: { code?: string } }) => {
      tally.outstanding--;
      const code = err.code ?? err.cause?.code ?? 'unknown';
      // Refused: the listener was already closed, so the request was never accepted.
      if (code === 'ECONNREFUSED') tally.refused++;
      else tally.lost.set(code, (tally.lost.get(code) ?? 0) + 1);
    },
  );
}

async function send(pool: Pool, path: string) {
  const res = await pool.request({ method: 'GET', path });
  const text = await res.body.text();
  const code = res.statusCode === 503 ? (JSON.parse(text) as { code?: string }).code : undefined;
  const connection = res.headers.connection;
  return { status: res.statusCode, code, connection: typeof connection === 'string' ? connection : undefined };
}

test('F5: SIGTERM at twice the capacity: every request sent gets an answer, none is reset', async () => {
  api = await startApi({
    databaseUrl: db.url,
    env: {
      WARM_ON_BOOT: 'true',
      DB_POOL_SIZE: '2',
      DB_ACQUIRE_TIMEOUT_MS: '3000',
      SHUTDOWN_DELAY_MS: String(DELAY_MS),
      SHUTDOWN_TIMEOUT_MS: '10000',
    },
  });
  const readyUrl = `${api.url}/health/ready`;
  await waitFor(
    'the API to be ready',
    async () => ((await getJson(readyUrl)).status === 200 ? true : undefined),
    30_000,
  );
  const pool = new Pool(api.url, { connections: CONNECTIONS, pipelining: 1 });
  try {
    // Closed loop: what this instance serves on this machine right now.
    let served = 0;
    const probeEnd = Date.now() + CAPACITY_PROBE_MS;
    await Promise.all(
      Array.from({ length: 32 }, async (_, i) => {
        while (Date.now() < probeEnd) {
          await send(pool, PATHS[i % PATHS.length]!);
          served++;
        }
      }),
    );
    const capacityPerS = (served * 1000) / CAPACITY_PROBE_MS;
    const ratePerS = 2 * capacityPerS;

    const tally: Tally = {
      statuses: new Map(),
      okDuringDelay: 0,
      sigtermSent: false,
      outstanding: 0,
      shuttingDown: 0,
      shuttingDownWithoutClose: 0,
      refused: 0,
      lost: new Map(),
    };
    const outcomes: Promise<void>[] = [];
    const start = Date.now();
    let sigtermAt: number | undefined;
    let firstShuttingDownAt: number | undefined;
    let notSent = 0;
    const TICK_MS = 10;
    for (let tick = 0; ; tick++) {
      const now = Date.now();
      if (sigtermAt === undefined && now - start >= LOAD_BEFORE_SIGTERM_MS) {
        api.child.kill('SIGTERM');
        sigtermAt = now;
        tally.sigtermSent = true;
      }
      if (firstShuttingDownAt === undefined && tally.shuttingDown > 0) firstShuttingDownAt = now;
      if (firstShuttingDownAt !== undefined && now - firstShuttingDownAt >= LOAD_AFTER_DRAIN_MS) break;
      if (sigtermAt !== undefined && now - sigtermAt >= LOAD_CAP_MS) break;
      // Open loop: the due number of requests every tick, whether earlier ones were answered or not.
      const due = Math.floor(((now - start) * ratePerS) / 1000) - outcomes.length - notSent;
      for (let i = 0; i < due; i++) {
        if (tally.outstanding >= CONNECTIONS) notSent++;
        else outcomes.push(record(tally, send(pool, PATHS[(tick + i) % PATHS.length]!)));
      }
      await sleep(TICK_MS);
    }
    const loadMs = Date.now() - start;
    await Promise.all(outcomes);
    const exit = await api.exited;

    const answered = [...tally.statuses.values()].reduce((a, b) => a + b, 0);
    const lost = [...tally.lost.values()].reduce((a, b) => a + b, 0);
    const statuses = [...tally.statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s}x${n}`);
    console.log(
      `[measure] F5 SIGTERM under load: capacity ${Math.round(capacityPerS)} req/s, sent ${outcomes.length} of ${outcomes.length + notSent} due at ${Math.round(ratePerS)} req/s over ${loadMs} ms; ` +
        `answered ${answered} (${statuses.join(' ')}; ${tally.okDuringDelay} x 200 during the delay; ${tally.shuttingDown} x SHUTTING_DOWN), refused after close ${tally.refused}, ` +
        `reset/lost ${lost}${lost ? ` ${JSON.stringify(Object.fromEntries(tally.lost))}` : ''}; exit ${exit}`,
    );
    assert.equal(lost, 0, `requests reset or lost: ${JSON.stringify(Object.fromEntries(tally.lost))}`);
    assert.equal(exit, 0);
    assert.ok(tally.shuttingDown > 0, 'the drain answered late requests with 503 SHUTTING_DOWN');
    assert.equal(tally.shuttingDownWithoutClose, 0, 'every SHUTTING_DOWN answer says Connection: close');
    assert.ok(tally.okDuringDelay > 0, 'requests during the delay were served');
  } finally {
    await pool.destroy();
  }
});
