// The load clients, both in this process so their CPU is the bench process's own:
// - closedLoop: autocannon, N connections each with one request in flight (throughput ceilings, the
//   cold-start burst of N connections at t=0, overload by concurrency). Keeps every response's send
//   time and latency so a run can be cut into time buckets.
// - openLoop: our own generator over an undici Pool. autocannon's overallRate only throttles its
//   closed loop: when the server slows, it sends less and the latency it reports leaves out the wait
//   (coordinated omission). Here requests leave on a fixed schedule whatever the answers do, and
//   latency counts from the scheduled time.
import autocannon from 'autocannon';
import { Pool } from 'undici';
import { percentile } from './stats.js';

/** One response (or transport error) of a closed-loop run. */
export interface Sample {
  /** When the request was sent, ms after the run started. */
  readonly sentMs: number;
  readonly latencyMs: number;
  /** HTTP status, 0 for a transport error or timeout. */
  readonly status: number;
}

export interface ClosedLoopResult {
  readonly durationS: number;
  readonly samples: readonly Sample[];
}

export interface ClosedLoopOptions {
  readonly url: string;
  readonly connections: number;
  readonly durationS: number;
  /** Authorization header values used in turn, one per request; none means no header. */
  readonly bearerTokens?: readonly string[];
}

const REQUEST_TIMEOUT_S = 10;

export async function closedLoop(opts: ClosedLoopOptions): Promise<ClosedLoopResult> {
  // Prebuilt header objects: rotating tokens must not cost the client more than the server.
  const headerSets = (opts.bearerTokens ?? []).map((token) => ({ authorization: `Bearer ${token}` }));
  let next = 0;
  const samples: Sample[] = [];
  const started = performance.now();
  let finish!: (result: autocannon.Result) => void;
  let fail!: (err: unknown) => void;
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  const instance = autocannon(
    {
      url: opts.url,
      connections: opts.connections,
      duration: opts.durationS,
      timeout: REQUEST_TIMEOUT_S,
      requests:
        headerSets.length > 0
          ? [
              {
                setupRequest: (request) => {
                  request.headers = headerSets[next++ % headerSets.length]!;
                  return request;
                },
              },
            ]
          : undefined,
    },
    (err, result) => (err ? fail(err) : finish(result)),
  );
  instance.on('response', (_client, statusCode, _bytes, responseTime) => {
    const now = performance.now() - started;
    samples.push({ sentMs: now - responseTime, latencyMs: responseTime, status: statusCode });
  });
  instance.on('reqError', () => {
    const now = performance.now() - started;
    // autocannon aborts the requests still in flight when the duration ends: not a server failure.
    if (now < opts.durationS * 1000) samples.push({ sentMs: now, latencyMs: Number.NaN, status: 0 });
  });
  const result = await done;
  return { durationS: result.duration, samples };
}

export interface Summary {
  readonly count: number;
  readonly ok: number;
  /** Transport errors, timeouts and 5xx. */
  readonly errors: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/** Counts and latency percentiles of the samples `keep` selects (all by default). */
export function summarize(samples: readonly Sample[], keep: (s: Sample) => boolean = () => true): Summary {
  const kept = samples.filter(keep);
  const latencies = kept.filter((s) => s.status !== 0).map((s) => s.latencyMs);
  return {
    count: kept.length,
    ok: kept.filter((s) => s.status >= 200 && s.status < 300).length,
    errors: kept.filter((s) => s.status === 0 || s.status >= 500).length,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: latencies.length ? Math.max(...latencies) : Number.NaN,
  };
}

/** "503: 12, 0: 3": the answers other than 2xx by status (0: transport error or timeout), most first. */
export function failedStatuses(samples: readonly Sample[]): string {
  const counts = new Map<number, number>();
  for (const s of samples) if (s.status < 200 || s.status >= 300) counts.set(s.status, (counts.get(s.status) ?? 0) + 1);
  return (
    [...counts]
      .sort((a, b) => b[1] - a[1])
      .map(([status, n]) => `${status}: ${n}`)
      .join(', ') || 'none'
  );
}

export interface OpenRequest {
  /** Route name the result is reported under. */
  readonly route: string;
  readonly method: 'GET' | 'POST' | 'DELETE';
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** Sees the answer (e.g. to keep an id or a token for a later request). */
  readonly onAnswer?: (status: number, body: string) => void;
}

export interface OpenLoopOptions {
  readonly origin: string;
  readonly ratePerS: number;
  readonly durationS: number;
  /** Keep-alive connections; requests beyond them wait in the client, and that wait is counted. */
  readonly connections: number;
  /** The next request to send. */
  readonly next: () => OpenRequest;
}

export interface RouteResult {
  readonly samples: Sample[];
  readonly statuses: Record<string, number>;
}

export interface OpenLoopResult {
  readonly sent: number;
  readonly achievedRatePerS: number;
  readonly routes: Record<string, RouteResult>;
}

const TICK_MS = 5;
const DRAIN_TIMEOUT_MS = 10_000;

export async function openLoop(opts: OpenLoopOptions): Promise<OpenLoopResult> {
  const pool = new Pool(opts.origin, {
    connections: opts.connections,
    pipelining: 1,
    headersTimeout: REQUEST_TIMEOUT_S * 1000,
    bodyTimeout: REQUEST_TIMEOUT_S * 1000,
  });
  const routes: Record<string, RouteResult> = {};
  const inFlight = new Set<Promise<void>>();
  const started = performance.now();
  const endMs = opts.durationS * 1000;
  let sent = 0;

  const send = (scheduledMs: number) => {
    const req = opts.next();
    const route = (routes[req.route] ??= { samples: [], statuses: {} });
    const record = (status: number) => {
      route.samples.push({ sentMs: scheduledMs, latencyMs: performance.now() - started - scheduledMs, status });
      route.statuses[status] = (route.statuses[status] ?? 0) + 1;
    };
    const done = pool
      .request({ method: req.method, path: req.path, headers: req.headers, body: req.body })
      .then(async (res) => {
        const text = await res.body.text();
        record(res.statusCode);
        req.onAnswer?.(res.statusCode, text);
      })
      .catch(() => record(0))
      .finally(() => inFlight.delete(done));
    inFlight.add(done);
    sent++;
  };

  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const nowMs = Math.min(performance.now() - started, endMs);
      // Every request whose time has come leaves now, stamped with its own scheduled time.
      const due = Math.floor((nowMs / 1000) * opts.ratePerS);
      while (sent < due) send((sent / opts.ratePerS) * 1000);
      if (nowMs >= endMs) {
        clearInterval(timer);
        resolve();
      }
    }, TICK_MS);
  });
  await Promise.race([Promise.allSettled([...inFlight]), new Promise((r) => setTimeout(r, DRAIN_TIMEOUT_MS))]);
  await pool.destroy();
  return { sent, achievedRatePerS: sent / opts.durationS, routes };
}
