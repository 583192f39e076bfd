// The cold-start burst client: N keep-alive connections opened together at t=0, then each sends its
// first request at once and one request after another (closed loop). Its own HTTP/1.1 client on
// node:net because the two phases must be told apart: autocannon starts a request's clock before the
// connection is up, so a first-wave latency also held the client's own work of opening 600 sockets
// (about 140 ms of blocked loop here) and any SYN retry (1 s, 3 s, 7 s). And a connection the client
// sees as connected may still wait in the server's accept queue: Node (libuv 1.52) accepts one
// connection per event-loop iteration, so once the accepted connections' requests make each
// iteration long, the rest of a 600-connection burst waited there for seconds (strace: one accept4
// per epoll_pwait; ListenOverflows 0). Here the connections are opened at t=0 and the first requests
// leave once the server has accepted all of them (its accept queue is empty, read from
// /proc/net/tcp), like the keep-alive connections of a proxy or of k6's VUs; both times are reported,
// and request latency counts from the write on an accepted connection.
// With `clock: 'connect'` it measures what a k6 VU sees instead (http_req_blocked and
// http_req_connecting are part of its first request): each connection writes its first request as
// soon as it is opened, that request's clock starts before the connect, so the wait in the accept
// queue is request time; connect time and the accept-queue drain are still reported on their own.
import { connect, type Socket } from 'node:net';
import { acceptQueueLength } from './kernel.js';
import type { Sample } from './load.js';

export interface BurstOptions {
  readonly url: string;
  readonly connections: number;
  readonly durationS: number;
  /** Authorization header values used in turn, one per request; none means no header. */
  readonly bearerTokens?: readonly string[];
  /**
   * A connection answered 503 with Retry-After waits that long before its next request, as a client
   * that backs off does (autocannon sends the next one at once).
   */
  readonly honorRetryAfter?: boolean;
  /**
   * 'accepted' (default): the first requests leave once the server has accepted every connection,
   * timed from the write. 'connect': each first request leaves with its connect and is timed from
   * before it, as k6 times a new connection's request.
   */
  readonly clock?: 'accepted' | 'connect';
}

export interface BurstResult {
  /** ms from t=0 (all connects started) until each connection was up; failed connects are left out. */
  readonly connectMs: readonly number[];
  readonly connectFailures: number;
  /** ms from t=0 until the server had accepted every connection; undefined where not observable. */
  readonly acceptedMs: number | undefined;
  /** Answers other than 2xx by status and the error body's `code` ("503 OVERLOADED": 12). */
  readonly errorCodes: Record<string, number>;
  /**
   * ms from t=0 until the moment samples' sentMs count from: when the first requests were written
   * once the server had accepted every connection, or 0 with the k6 clock.
   */
  readonly clockStartMs: number;
  /** Samples with sentMs counted from clockStartMs. */
  readonly samples: readonly Sample[];
  readonly durationS: number;
}

const REQUEST_TIMEOUT_MS = 10_000;
const CONNECT_TIMEOUT_MS = 15_000;
const TIMEOUT_SCAN_MS = 250;
const ACCEPT_POLL_MS = 5;
const HEADER_END = Buffer.from('\r\n\r\n');
const CONTENT_LENGTH = /\r\ncontent-length:\s*(\d+)/i;
const ERROR_CODE = /"code":"([A-Z_]+)"/;
const RETRY_AFTER = /\r\nretry-after:\s*(\d+)/i;

interface Conn {
  socket: Socket;
  /** Bytes of the response so far. */
  pending: Buffer | null;
  /** When the request in flight was written (ms since start), or null when none is. */
  sentAt: number | null;
}

export async function burst(opts: BurstOptions): Promise<BurstResult> {
  const url = new URL(opts.url);
  const host = url.hostname;
  const port = Number(url.port);
  const head = `GET ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\n`;
  // Prebuilt requests: rotating tokens must not cost the client more than the server.
  const requests = (opts.bearerTokens?.length ? opts.bearerTokens : [null]).map((token) =>
    Buffer.from(`${head}${token === null ? '' : `authorization: Bearer ${token}\r\n`}\r\n`, 'latin1'),
  );
  let nextRequest = 0;
  const samples: Sample[] = [];
  const connectMs: number[] = [];
  let connectFailures = 0;
  const errorCodes: Record<string, number> = {};
  const conns = new Set<Conn>();
  const pauses = new Set<NodeJS.Timeout>();
  let startedAt = Number.NaN;
  let endAt = Number.POSITIVE_INFINITY;
  let stopping = false;
  let inFlight = 0;
  let settle: (() => void) | undefined;
  const now = () => performance.now() - startedAt;

  const finish = (c: Conn, status: number) => {
    const sentAt = c.sentAt!;
    c.sentAt = null;
    inFlight--;
    samples.push({ sentMs: sentAt, latencyMs: status === 0 ? Number.NaN : now() - sentAt, status });
    if (stopping && inFlight === 0) settle?.();
  };
  const send = (c: Conn) => {
    if (stopping || now() >= endAt) {
      stopping = true;
      if (inFlight === 0) settle?.();
      return;
    }
    c.sentAt = now();
    inFlight++;
    c.socket.write(requests[nextRequest++ % requests.length]!);
  };
  const onData = (c: Conn, chunk: Buffer) => {
    const buf = c.pending ? Buffer.concat([c.pending, chunk]) : chunk;
    const headerEnd = buf.indexOf(HEADER_END);
    if (headerEnd < 0) return void (c.pending = buf);
    const headers = buf.toString('latin1', 0, headerEnd);
    const length = CONTENT_LENGTH.exec(headers);
    // Every answer of the API has a content-length; anything else would be misread silently.
    if (!length) throw new Error(`burst: a response without content-length: ${headers.slice(0, 200)}`);
    const total = headerEnd + HEADER_END.length + Number(length[1]);
    if (buf.length < total) return void (c.pending = buf);
    c.pending = buf.length > total ? buf.subarray(total) : null;
    const status = Number(headers.slice(9, 12));
    if (status >= 300) {
      const code = ERROR_CODE.exec(buf.toString('utf8', headerEnd + HEADER_END.length, total))?.[1] ?? '';
      const key = `${status} ${code}`.trim();
      errorCodes[key] = (errorCodes[key] ?? 0) + 1;
    }
    if (c.sentAt !== null) finish(c, status);
    if (/\r\nconnection:\s*close/i.test(headers)) return reopen(c);
    const retryAfterS = status === 503 && opts.honorRetryAfter ? Number(RETRY_AFTER.exec(headers)?.[1] ?? 0) : 0;
    if (retryAfterS > 0) {
      const pause = setTimeout(() => {
        pauses.delete(pause);
        if (conns.has(c)) send(c);
      }, retryAfterS * 1000);
      pauses.add(pause);
      return;
    }
    send(c);
  };
  // A connection that failed or timed out is replaced; its request counts as failed (status 0).
  const reopen = (c: Conn) => {
    conns.delete(c);
    c.socket.destroy();
    if (c.sentAt !== null) finish(c, 0);
    // Before the first requests (a failed connect, counted as such) or after the end: nothing to replace.
    if (Number.isNaN(startedAt) || stopping || now() >= endAt) return;
    const next = open(() => undefined);
    // The replacement's request is written before it is connected: its latency includes the connect.
    send(next);
  };
  const open = (onConnect: (ms: number) => void): Conn => {
    const socket = connect({ host, port, noDelay: true });
    const c: Conn = { socket, pending: null, sentAt: null };
    conns.add(c);
    const openedAt = performance.now();
    socket.once('connect', () => onConnect(performance.now() - openedAt));
    socket.on('data', (chunk: Buffer) => onData(c, chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (conns.has(c)) reopen(c);
    });
    return c;
  };

  const scanTimeouts = () =>
    setInterval(() => {
      const t = now();
      for (const c of conns) if (c.sentAt !== null && t - c.sentAt > REQUEST_TIMEOUT_MS) reopen(c);
    }, TIMEOUT_SCAN_MS);
  const settled = new Promise<void>((resolve) => (settle = resolve));
  const t0 = performance.now();
  let scan: NodeJS.Timeout;
  let acceptedMs: number | undefined;
  if (opts.clock === 'connect') {
    // Every connection at t=0 with its first request written at once; the clock runs from t=0.
    startedAt = t0;
    endAt = opts.durationS * 1000;
    scan = scanTimeouts();
    let settledConnects = 0;
    for (let i = 0; i < opts.connections; i++) {
      let connected = false;
      const c = open(() => {
        connected = true;
        settledConnects++;
        connectMs.push(performance.now() - t0);
      });
      c.socket.once('error', () => {
        if (connected) return;
        settledConnects++;
        connectFailures++;
      });
      send(c);
    }
    acceptedMs = await acceptDrained(port, t0, () => settledConnects === opts.connections);
  } else {
    // Phase 1: every connection at t=0, timed from t=0 (the client's own loop included).
    const first: Conn[] = [];
    await new Promise<void>((resolve) => {
      let waiting = opts.connections;
      const deadline = setTimeout(resolve, CONNECT_TIMEOUT_MS);
      const done = () => {
        if (--waiting > 0) return;
        clearTimeout(deadline);
        resolve();
      };
      for (let i = 0; i < opts.connections; i++) {
        const c = open(() => {
          connectMs.push(performance.now() - t0);
          first.push(c);
          done();
        });
        c.socket.once('error', () => {
          connectFailures++;
          done();
        });
      }
    });
    // The server accepts them (bounded): until then a request would measure its accept queue.
    acceptedMs = await acceptDrained(port, t0, () => true);
    // Phase 2: the first request on every open connection at once, then closed loop.
    startedAt = performance.now();
    endAt = opts.durationS * 1000;
    scan = scanTimeouts();
    for (const c of first) if (conns.has(c)) send(c);
  }
  await new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, endAt - now())));
  stopping = true;
  // Requests sent before the end are waited for (bounded by their timeout): they belong to the run.
  if (inFlight > 0) await settled;
  clearInterval(scan);
  for (const pause of pauses) clearTimeout(pause);
  const durationS = now() / 1000;
  for (const c of conns) {
    conns.delete(c);
    c.socket.destroy();
  }
  const clockStartMs = startedAt - t0;
  return { connectMs, connectFailures, acceptedMs, clockStartMs, errorCodes, samples, durationS };
}

/**
 * ms from t0 until the server's accept queue was empty with every connect settled (bounded by the
 * connect timeout); undefined where the queue is not observable.
 */
async function acceptDrained(port: number, t0: number, connectsSettled: () => boolean): Promise<number | undefined> {
  const deadline = performance.now() + CONNECT_TIMEOUT_MS;
  for (;;) {
    const queued = acceptQueueLength(port);
    if (queued === undefined) return undefined;
    if ((queued === 0 && connectsSettled()) || performance.now() >= deadline) return performance.now() - t0;
    await new Promise((resolve) => setTimeout(resolve, ACCEPT_POLL_MS));
  }
}
