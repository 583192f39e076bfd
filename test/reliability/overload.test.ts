// F4: far more concurrent requests than the pool can serve within the deadline. Asserts behaviour,
// never throughput: every accepted request is answered within its deadline, every refusal is a 503
// with Retry-After that is counted by reason, and the log gets summary lines, not one per request.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { getJson, waitFor } from '@mokakbab/testkit';
import { startApi, type ApiProcess } from '../helpers/processes.js';
import { byStatus, closedLoop, percentile, startFaultServer, type FaultServer } from './lib/faults.js';

const measure = (text: string) => console.log(`[measure] ${text}`);

// A small pool and short deadlines so that modest concurrency is a heavy overload.
const ENV = {
  WARM_ON_BOOT: 'true',
  DB_POOL_SIZE: '2',
  DB_ACQUIRE_TIMEOUT_MS: '500',
  DB_CONNECT_TIMEOUT_MS: '450',
  DB_QUERY_TIMEOUT_MS: '1000',
  DB_QUEUE_LIMIT: '20',
  REJECTION_LOG_INTERVAL_MS: '1000',
};
const LOAD_MS = 3_000;
const WORKERS = 100;

let db: FaultServer;
let api: ApiProcess;

before(async () => {
  db = await startFaultServer({ members: 20, articles: 200, participations: 100 });
  api = await startApi({ databaseUrl: db.url, env: ENV });
  await waitFor('the API is ready', async () =>
    (await getJson(`${api.url}/health/ready`)).status === 200 ? true : undefined,
  );
});
after(async () => {
  await api?.stop('SIGKILL');
  await db?.close();
});

test('F4: 100 concurrent requests on a pool of 2: accepted ones within the deadline, the rest refused early and counted', async () => {
  const startedAt = Date.now();
  const samples = await closedLoop({
    origin: api.url,
    path: '/articles/1',
    workers: WORKERS,
    stop: () => Date.now() - startedAt > LOAD_MS,
  });
  const accepted = samples.filter((s) => s.status === 200);
  const refused = samples.filter((s) => s.status === 503);
  const deadlineMs = Number(ENV.DB_ACQUIRE_TIMEOUT_MS) + Number(ENV.DB_QUERY_TIMEOUT_MS) + 100;
  const acceptedP99 = percentile(
    accepted.map((s) => s.ms),
    99,
  );
  const refusedP99 = percentile(
    refused.map((s) => s.ms),
    99,
  );
  const codes: Record<string, number> = {};
  for (const s of refused) codes[s.code ?? '-'] = (codes[s.code ?? '-'] ?? 0) + 1;
  measure(
    `F4 ${WORKERS} workers, pool 2, ${LOAD_MS} ms: ${JSON.stringify(byStatus(samples))}, ` +
      `${Math.round((accepted.length * 1000) / LOAD_MS)} useful req/s, accepted p99 ${Math.round(acceptedP99)} ms ` +
      `(deadline ${deadlineMs} ms), refused p99 ${Math.round(refusedP99)} ms, refusals ${JSON.stringify(codes)}`,
  );

  assert.deepEqual(Object.keys(byStatus(samples)).sort(), ['200', '503'], 'only 200 and 503');
  assert.ok(accepted.length > 0 && refused.length > 0, 'both served and refused');
  const requestTimeoutMs = 10_000;
  assert.ok(
    samples.every((s) => s.ms < requestTimeoutMs),
    `slowest answer ${Math.round(Math.max(...samples.map((s) => s.ms)))} ms`,
  );
  assert.ok(
    refused.every((s) => Number(s.retryAfter) >= 1),
    'every 503 carries Retry-After',
  );
  assert.ok((codes.OVERLOADED ?? 0) > 0, 'refused at the door (OVERLOADED) before any work');

  const metrics = await (await fetch(`${api.adminUrl}/metrics`)).text();
  const counted = (name: string, reason: string) =>
    Number(new RegExp(`^${name}\\{reason="${reason}"\\} (\\d+)`, 'm').exec(metrics)?.[1] ?? 0);
  assert.ok(counted('http_requests_rejected_total', 'overload') >= (codes.OVERLOADED ?? 0));
  assert.ok(counted('db_pool_rejections_total', 'overload') > 0);
  assert.match(metrics, /^db_pool_acquire_wait_seconds_count [1-9]/m);
  // The server's own clock (onRequest to response) for the accepted ones: this process's client
  // shares the CPU, so its latencies include its own scheduling.
  const bucket = (le: string) => {
    const line = metrics
      .split('\n')
      .find(
        (l) =>
          l.startsWith('http_request_duration_seconds_bucket{') &&
          l.includes('route="/articles/:id"') &&
          l.includes('status_code="200"') &&
          l.includes(`le="${le}"`),
      );
    return Number(line?.split(' ').pop());
  };
  const withinDeadline = bucket('2.5');
  const all = bucket('+Inf');
  assert.ok(all >= accepted.length, `the server counted ${all} accepted`);
  assert.equal(
    withinDeadline,
    all,
    `accepted answered within 2.5 s (deadline ${deadlineMs} ms + slack): ${withinDeadline} of ${all}`,
  );
  assert.match(metrics, /^db_statement_duration_seconds_count\{kind="read"\} [1-9]/m);

  // One summary line per interval with the counts, never a line per refusal.
  const summaries = () => api.logs.filter((l) => l.msg === 'requests turned away');
  const summed = () =>
    summaries().reduce(
      (n, l) => n + Object.values((l.http ?? {}) as Record<string, number>).reduce((a, b) => a + b, 0),
      0,
    );
  await waitFor('the summaries count every refusal at the door', async () =>
    summed() >= (codes.OVERLOADED ?? 0) ? true : undefined,
  );
  // The pool's own lines (a connection replaced) are per connection, not per request.
  const warnLines = api.logs.filter((l) => Number(l.level) >= 40 && l.component !== 'pool');
  assert.ok(
    warnLines.length <= summaries().length + 5,
    `warn lines: ${warnLines.length}, of which summaries: ${summaries().length}`,
  );
  assert.ok(summaries().length <= LOAD_MS / Number(ENV.REJECTION_LOG_INTERVAL_MS) + 3);
});
