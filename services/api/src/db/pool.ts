/*
 * A fixed-size, HikariCP-style pool over single mysql2 connections: it hands out and takes back
 * connections; the statements themselves go through the query API (database.ts) on top.
 *
 * Why not mysql2's createPool: it opens connections only on demand (no minimum size, no warm-up),
 * puts no bound on concurrent handshakes (a burst opens `connectionLimit` at once: the connect
 * storm this project exists to remove), has no max lifetime, its queued getConnection cannot be
 * cancelled (no acquire timeout: a waiter that gave up is still handed a connection later), and
 * its state lives in private fields (`_allConnections`, `_freeConnections`, `_connectionQueue`).
 *
 * Shape, after HikariCP's HikariPool/ConcurrentBag: each connection has one state (idle, busy,
 * validating, retiring, gone) and the pool counts connections per state; idle connections sit on
 * a LIFO stack (the hottest stays hot, cold ones age out) from which entries that left the idle
 * state are skipped, as ConcurrentBag skips entries it cannot claim; waiters wait in a FIFO that a
 * timed-out waiter leaves in O(1); one fill loop keeps `open + connecting == size` with at most
 * `warmConcurrency` handshakes in flight and backs off (full jitter) after failures; each
 * connection has an end-of-life timer with jitter; and a connection idle longer than
 * aliveBypassWindowMs (HikariCP's ALIVE_BYPASS_WINDOW_MS) is pinged before it is handed out, so
 * the hot path never pays a round trip.
 *
 * Two verbs end a connection: `destroy` (it is broken or does not answer: close the socket now)
 * and `retire` (it is healthy but done, for its lifetime or because the pool closes: COM_QUIT and
 * wait for the server to close the socket).
 */
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { ConnectionOptions } from 'mysql2';
import type { Logger } from 'pino';
import { PROBE_BACKOFF, REFILL_BACKOFF, fullJitterDelayMs } from './backoff.js';
import { PooledConnection, type ConnectionState } from './connection.js';
import {
  errorCode,
  isServerFullError,
  isTransientConnectError,
  PoolUnavailableError,
  PoolWarmError,
} from './errors.js';
import { UTC_SESSION_SQL } from './session.js';
import { describeCounts, PoolCounters, type LiveCounts, type PoolStats, type RejectionReason } from './stats.js';
import { WaiterQueue } from './waiter-queue.js';

export interface PoolOptions {
  /** From @mokakbab/config connectionOptions(url). */
  connection: ConnectionOptions;
  /** Fixed pool size (from planApiPool). */
  size: number;
  /** Most handshakes in flight, during warm-up and replacement alike. */
  warmConcurrency: number;
  /** Bounds one handshake, and one validation (`SELECT 1` / ping). */
  connectTimeoutMs: number;
  acquireTimeoutMs: number;
  /** Waiting acquires beyond this fail at once. */
  queueLimit: number;
  maxLifetimeMs: number;
  /** Each connection lives maxLifetimeMs - random(0..lifetimeJitterMs). */
  lifetimeJitterMs: number;
  warmTimeoutMs: number;
  logger: Logger;
  /** A connection idle longer than this is pinged before it is handed out. Default 500 (HikariCP). */
  aliveBypassWindowMs?: number;
  /**
   * The statement deadline: the client destroys a connection whose statement has not answered
   * within this plus STATEMENT_GRACE_MS (the server's own limit, set by sessionSql, answers first).
   */
  queryTimeoutMs: number;
  /** Run on every new connection; default UTC only (session.ts builds the full one). */
  sessionSql?: string;
  /**
   * Connections writes and transactions may never hold, kept for reads (database.ts's write gate;
   * @mokakbab/config readReserve). Default 0: no reserve.
   */
  readReserve?: number;
}

/** Time-series sinks for the metrics plugin; called on the hot path, so they must be cheap. */
export interface PoolObserver {
  /** Seconds an acquire waited, whether it got a connection or was rejected. */
  acquireWait(seconds: number): void;
}

/** Never warmed; a warm-up running for the first time; warmed once; draining for close(); closed. */
export type PoolLifecycle = 'cold' | 'warming' | 'warm' | 'closing' | 'closed';

export interface DbPoolEvents {
  'connect-error': [code: string, err: Error];
  recycle: [threadId: number];
}

const DEFAULT_ALIVE_BYPASS_WINDOW_MS = 500;
// Lets the server's own statement limit answer first while the server runs.
const STATEMENT_GRACE_MS = 100;
// Adaptive LIFO (Facebook's "Fail at Scale"): once the oldest waiter has waited this share of the
// acquire timeout, the queue is not draining, and the newest waiter is served first: it can still
// make its deadline, while the oldest would be served just in time to miss its own. FIFO (fair,
// the best tail under ordinary queueing) again once the oldest waiter is younger.
const LIFO_AFTER_SHARE = 0.5;
// How soon an idle connection past its lifetime looks again for a free handshake slot.
const LIFETIME_RECHECK_MS = 20;
// Weight of the newest hold time in the moving average expectedWaitMs() uses.
const HOLD_EWMA_WEIGHT = 0.05;

type FullListener = (err?: Error) => void;

export class ConnectionPool extends EventEmitter<DbPoolEvents> {
  protected readonly opts: PoolOptions;
  protected readonly log: Logger;
  private readonly connectionOptions: ConnectionOptions;
  private readonly aliveBypassWindowMs: number;
  private lifecycle: PoolLifecycle = 'cold';
  /** Connections per state; `open()` is idle + busy + validating. */
  private readonly count: Record<ConnectionState, number> = {
    connecting: 0,
    idle: 0,
    busy: 0,
    validating: 0,
    retiring: 0,
    gone: 0,
  };
  /** Idle connections, most recently used last (LIFO); entries no longer idle are skipped. */
  private idleStack: PooledConnection[] = [];
  private readonly waiters = new WaiterQueue<PooledConnection>();
  private connectFailures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;
  private onDrained: (() => void) | undefined;
  private warming: Promise<PoolStats> | undefined;
  private fullListener: FullListener | undefined;
  private readonly counters = new PoolCounters();
  private nextProbeAt = 0;
  /** The last failed connect was the server refusing more connections (1040). */
  private serverFull = false;
  /** The degraded state was logged; reset once the pool is full. */
  private degradedLogged = false;
  private holdEwmaMs = 1;
  private observer: PoolObserver | undefined;
  protected readonly statementTimeoutMs: number;
  private readonly lifoAfterMs: number;
  private readonly onLost = (conn: PooledConnection, err: Error): void => {
    // A retiring connection's socket closing is the end we asked for; a failed handshake rejects connect().
    if (conn.state !== 'retiring' && conn.state !== 'connecting') this.destroy(conn, err);
  };

  constructor(opts: PoolOptions) {
    super();
    if (!Number.isInteger(opts.size) || opts.size < 1) throw new RangeError(`pool size must be >= 1, got ${opts.size}`);
    if (!Number.isInteger(opts.warmConcurrency) || opts.warmConcurrency < 1) {
      throw new RangeError(`warmConcurrency must be >= 1, got ${opts.warmConcurrency}`);
    }
    this.opts = opts;
    this.log = opts.logger;
    this.aliveBypassWindowMs = opts.aliveBypassWindowMs ?? DEFAULT_ALIVE_BYPASS_WINDOW_MS;
    this.connectionOptions = { ...opts.connection, connectTimeout: opts.connectTimeoutMs };
    this.statementTimeoutMs = opts.queryTimeoutMs + STATEMENT_GRACE_MS;
    this.lifoAfterMs = opts.acquireTimeoutMs * LIFO_AFTER_SHARE;
  }

  observe(observer: PoolObserver): void {
    this.observer = observer;
  }

  /** Acquires waiting now: for a connection, and (database.ts) for a writer's slot before that. */
  protected queuedAcquires(): number {
    return this.waiters.length;
  }

  /** Counts a refusal raised outside acquire (the write gate's) like the pool's own. */
  protected countRejection(err: unknown): void {
    if (err instanceof PoolUnavailableError) this.counters.rejected(err.code);
  }

  /** Rejected acquires by reason, since the start. */
  rejections(): Readonly<Record<RejectionReason, number>> {
    return this.counters.rejections;
  }

  /**
   * How long a new acquire would wait: the waiters ahead of it, served `size` at a time, each
   * holding a connection for the moving average hold time. The overload check in onRequest uses it.
   */
  expectedWaitMs(): number {
    if (this.count.idle > 0) return 0;
    return ((this.queuedAcquires() + 1) * this.holdEwmaMs) / this.opts.size;
  }

  /**
   * The queue is full, or a new acquire could expect to wait past its deadline; counted as an
   * `overload` rejection when true (the HTTP layer turns the request away before any work).
   */
  overloaded(): boolean {
    if (this.queuedAcquires() < this.opts.queueLimit && this.expectedWaitMs() <= this.opts.acquireTimeoutMs) {
      return false;
    }
    this.counters.rejections.overload++;
    return true;
  }

  /**
   * The error an acquire would get now (pool closed, database known down), counted as a
   * rejection; undefined when it could get or wait for a connection.
   */
  refusal(): PoolUnavailableError | undefined {
    const err = this.isShut() ? closedError() : this.isDown() ? this.downError() : undefined;
    if (err) this.counters.rejected(err.code);
    return err;
  }

  get state(): PoolLifecycle {
    return this.lifecycle;
  }

  stats(): PoolStats {
    return this.counters.snapshot(this.liveCounts());
  }

  /**
   * Opens and validates every connection. Concurrent callers share one warm-up; on a full pool it
   * re-validates the idle connections and resolves quickly. Rejects with PoolWarmError after
   * warmTimeoutMs (the pool keeps filling in the background) or on an error retrying cannot fix.
   */
  warm(): Promise<PoolStats> {
    if (this.isShut()) return Promise.reject(new PoolWarmError('POOL_CLOSED', 'the pool is closed'));
    this.warming ??= this.runWarm().finally(() => {
      this.warming = undefined;
    });
    return this.warming;
  }

  /** Rejects queued acquires (POOL_CLOSED), lets in-flight queries finish, then ends every connection. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.lifecycle = 'closing';
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.rejectWaiters(closedError());
    this.settleFull(new PoolWarmError('POOL_CLOSED', 'the pool was closed during warm-up'));
    for (const conn of this.takeIdle()) this.retire(conn);
    this.closing = new Promise((resolve) => {
      this.onDrained = resolve;
      this.checkDrained();
    });
    return this.closing;
  }

  // ---- acquire / release (the hot path) ----

  protected acquireDeadline(): number {
    return performance.now() + this.opts.acquireTimeoutMs;
  }

  protected isShut(): boolean {
    return this.lifecycle === 'closing' || this.lifecycle === 'closed';
  }

  /**
   * A busy connection. The deadline bounds the whole acquire, pings included: against a server
   * that stopped answering, a stack of stale idle connections would otherwise cost one ping
   * timeout each.
   */
  protected async acquire(alwaysValidate: boolean, deadline: number): Promise<PooledConnection> {
    const startedAt = performance.now();
    try {
      const conn = await this.acquireWithin(alwaysValidate, deadline);
      conn.acquiredAt = performance.now();
      this.observer?.acquireWait((conn.acquiredAt - startedAt) / 1000);
      return conn;
    } catch (err) {
      this.observer?.acquireWait((performance.now() - startedAt) / 1000);
      this.countRejection(err);
      throw err;
    }
  }

  private async acquireWithin(alwaysValidate: boolean, deadline: number): Promise<PooledConnection> {
    if (this.isShut()) throw closedError();
    for (;;) {
      if (performance.now() >= deadline) {
        // Whatever was destroyed on the way is being replaced already; this acquire gives up.
        this.fill();
        throw this.acquireTimeoutError();
      }
      const conn = this.popIdle() ?? (await this.waitForConnection(deadline));
      // Lost between the hand-off and this continuation: already replaced.
      if (conn.state === 'gone') continue;
      const now = performance.now();
      if (!alwaysValidate && now - conn.lastUsedAt <= this.aliveBypassWindowMs) return conn;
      this.setState(conn, 'validating');
      try {
        // A ping cut short by the deadline destroys the connection: its answer would arrive on a
        // connection nobody waits for, and a server that slow is better reconnected.
        await conn.ping(Math.max(1, Math.min(this.opts.connectTimeoutMs, deadline - now)));
        this.setState(conn, 'busy');
        conn.lastUsedAt = performance.now();
        return conn;
      } catch (err) {
        this.destroy(conn, err);
        if (this.isShut()) throw closedError();
      }
    }
  }

  /** Takes back a busy connection; `deadBecause` is the error that showed it unusable, if one did. */
  protected release(conn: PooledConnection, deadBecause?: unknown): void {
    // Lost while busy: destroyed and replaced already.
    if (conn.state === 'gone') return;
    if (deadBecause !== undefined) {
      this.destroy(conn, deadBecause);
      return;
    }
    const now = performance.now();
    conn.lastUsedAt = now;
    this.holdEwmaMs += HOLD_EWMA_WEIGHT * (now - conn.acquiredAt - this.holdEwmaMs);
    if (this.isShut()) this.retire(conn);
    else if (now >= conn.expiresAt && this.canReplace()) this.retireForLifetime(conn);
    else this.handOff(conn);
  }

  private waitForConnection(deadline: number): Promise<PooledConnection> {
    if (this.isShut()) return Promise.reject(closedError());
    // Demand starts a pool nobody warmed, even when this acquire cannot wait.
    this.fill();
    // Known down: waiting cannot help; the probe goes on in the background.
    if (this.isDown()) return Promise.reject(this.downError());
    const remainingMs = deadline - performance.now();
    if (remainingMs <= 0) return Promise.reject(this.acquireTimeoutError());
    if (this.waiters.length >= this.opts.queueLimit) {
      return Promise.reject(
        new PoolUnavailableError('QUEUE_FULL', `${this.waiters.length} requests already wait for a connection`),
      );
    }
    return this.waiters.wait(remainingMs, () => this.acquireTimeoutError());
  }

  /** Gives a busy connection to a waiter (see LIFO_AFTER_SHARE for which), or puts it on the idle stack. */
  private handOff(conn: PooledConnection): void {
    const oldest = this.waiters.peek();
    const waiter =
      oldest && performance.now() - oldest.since > this.lifoAfterMs ? this.waiters.pop() : this.waiters.shift();
    if (waiter) {
      clearTimeout(waiter.timer);
      waiter.resolve(conn);
      return;
    }
    this.setState(conn, 'idle');
    this.idleStack.push(conn);
  }

  private popIdle(): PooledConnection | undefined {
    for (let conn = this.idleStack.pop(); conn; conn = this.idleStack.pop()) {
      if (conn.state === 'idle') {
        this.setState(conn, 'busy');
        return conn;
      }
    }
    return undefined;
  }

  /** Every idle connection, marked busy and off the stack. */
  private takeIdle(): PooledConnection[] {
    const batch = this.idleStack.filter((conn) => conn.state === 'idle');
    this.idleStack = [];
    for (const conn of batch) this.setState(conn, 'busy');
    return batch;
  }

  private setState(conn: PooledConnection, next: ConnectionState): void {
    this.count[conn.state]--;
    this.count[next]++;
    conn.state = next;
    // Idle connections that retire on their timer or are lost leave their entry behind; drop
    // those entries once they outnumber the pool, so the stack stays O(size).
    if (this.idleStack.length > this.count.idle + this.opts.size) {
      this.idleStack = this.idleStack.filter((c) => c.state === 'idle');
    }
  }

  private open(): number {
    return this.count.idle + this.count.busy + this.count.validating;
  }

  private liveCounts(): LiveCounts {
    const total = this.open();
    return {
      target: this.opts.size,
      total,
      idle: this.count.idle,
      busy: total - this.count.idle,
      connecting: this.count.connecting,
      queued: this.queuedAcquires(),
      degraded: this.serverFull && total < this.opts.size,
    };
  }

  // ---- ending connections ----

  /** Hard end of a connection that is broken or does not answer; the pool opens a replacement. */
  protected destroy(conn: PooledConnection, err: unknown): void {
    conn.destroy();
    if (conn.state === 'gone') return;
    this.setState(conn, 'gone');
    if (this.isShut()) {
      this.checkDrained();
      return;
    }
    this.log.warn(
      { threadId: conn.threadId, code: err === undefined ? undefined : errorCode(err) },
      'db pool: connection lost, replacing it',
    );
    this.fill();
  }

  /** Polite end (COM_QUIT) of a healthy connection; close() waits until the server has closed it. */
  private retire(conn: PooledConnection): void {
    this.setState(conn, 'retiring');
    void conn.end(this.opts.connectTimeoutMs).then(() => {
      this.setState(conn, 'gone');
      this.checkDrained();
    });
    this.fill();
  }

  /**
   * A connection at the end of its life retires only when its replacement can start at once
   * (fewer than warmConcurrency handshakes in flight); otherwise it serves a little longer, so
   * recycling never leaves the pool short of its size.
   */
  private canReplace(): boolean {
    return this.count.connecting < this.opts.warmConcurrency;
  }

  private retireForLifetime(conn: PooledConnection): void {
    this.counters.recycled++;
    this.log.debug({ threadId: conn.threadId }, 'db pool: connection reached its max lifetime');
    this.emit('recycle', conn.threadId);
    this.retire(conn);
  }

  private checkDrained(): void {
    if (this.lifecycle !== 'closing' || this.open() + this.count.retiring + this.count.connecting > 0) return;
    this.lifecycle = 'closed';
    const done = this.onDrained;
    this.onDrained = undefined;
    done?.();
  }

  // ---- opening connections ----

  /** Opens connections until open + connecting == size, at most warmConcurrency at a time. */
  private fill(): void {
    if (this.isShut() || this.retryTimer !== undefined) return;
    // A server known to be down is probed with one handshake; the first success refills at full width.
    const concurrency = this.isDown() ? 1 : this.opts.warmConcurrency;
    while (this.open() + this.count.connecting < this.opts.size && this.count.connecting < concurrency) {
      this.openOne();
    }
  }

  private openOne(): void {
    const conn = new PooledConnection(this.connectionOptions, this.onLost);
    this.count.connecting++;
    this.counters.connecting(this.count.connecting);
    conn
      .connect()
      .then(() => conn.statement(this.opts.sessionSql ?? UTC_SESSION_SQL, this.opts.connectTimeoutMs))
      .then(() => conn.validate(this.opts.connectTimeoutMs))
      .then(
        () => this.opened(conn),
        (err: unknown) => this.openFailed(conn, err),
      )
      // A bug in the bookkeeping above must show in the logs, not as an unhandled rejection.
      .catch((err: unknown) => this.log.error({ err }, 'db pool: opening a connection failed unexpectedly'));
  }

  private opened(conn: PooledConnection): void {
    this.connectFailures = 0;
    // Busy first: handOff gives it to a waiter or makes it idle.
    this.setState(conn, 'busy');
    if (this.isShut()) {
      this.retire(conn);
      return;
    }
    this.counters.connected(this.opts.size);
    const now = performance.now();
    const lifetimeMs = this.opts.maxLifetimeMs - Math.random() * this.opts.lifetimeJitterMs;
    conn.expiresAt = now + lifetimeMs;
    conn.lastUsedAt = now;
    // Idle connections retire on this timer; busy ones when released past expiresAt.
    const onLifetimeEnd = () => {
      if (conn.state !== 'idle') return;
      if (this.canReplace()) this.retireForLifetime(conn);
      else conn.lifetimeTimer = setTimeout(onLifetimeEnd, LIFETIME_RECHECK_MS).unref();
    };
    conn.lifetimeTimer = setTimeout(onLifetimeEnd, lifetimeMs).unref();
    this.handOff(conn);
    this.fill();
    if (this.open() === this.opts.size) {
      if (this.degradedLogged) this.log.info({ target: this.opts.size }, 'db pool: full again');
      this.serverFull = false;
      this.degradedLogged = false;
      this.settleFull(undefined);
    }
  }

  private openFailed(conn: PooledConnection, err: unknown): void {
    this.setState(conn, 'gone');
    conn.destroy();
    if (this.isShut()) {
      this.checkDrained();
      return;
    }
    const error = err instanceof Error ? err : new Error(String(err));
    const code = errorCode(err);
    this.counters.connectFailed(code, error.message);
    this.emit('connect-error', code, error);
    const transient = isTransientConnectError(err);
    const full = isServerFullError(err);
    if (full && this.open() > 0) {
      // The server gives no more: serve with what it gave (a warm-up waiting for full succeeds),
      // and keep trying for the rest with backoff. Logged when it starts, not on every retry.
      if (!this.degradedLogged) {
        this.degradedLogged = true;
        this.log.warn(
          { total: this.open(), target: this.opts.size, code },
          'db pool: the server refused more connections; serving degraded, retrying for the rest',
        );
      }
      this.serverFull = true;
      this.settleFull(undefined);
      this.scheduleRetry();
      return;
    }
    this.serverFull = full;
    this.log.warn({ code, err: error, transient }, 'db pool: connect failed');
    if (!transient) {
      this.settleFull(
        new PoolWarmError('WARM_FAILED', `connect failed with ${code} (${error.message}): retrying will not fix it`, {
          cause: error,
        }),
      );
    }
    this.scheduleRetry();
    if (this.isDown()) this.rejectWaiters(this.downError());
  }

  private scheduleRetry(): void {
    // Failures of one round (up to warmConcurrency handshakes) share one timer and one step of backoff.
    if (this.retryTimer !== undefined) return;
    const backoff = this.open() === 0 ? PROBE_BACKOFF : REFILL_BACKOFF;
    const delayMs = fullJitterDelayMs(this.connectFailures++, backoff.baseMs, backoff.capMs);
    this.nextProbeAt = performance.now() + delayMs;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.fill();
    }, delayMs).unref();
  }

  // ---- warm-up ----

  private async runWarm(): Promise<PoolStats> {
    const startedAt = performance.now();
    if (this.lifecycle === 'cold') this.lifecycle = 'warming';
    try {
      await this.validateIdle();
      this.fill();
      await this.whenFull(this.opts.warmTimeoutMs - (performance.now() - startedAt));
    } catch (err) {
      if (this.lifecycle === 'warming') this.lifecycle = 'cold';
      throw err;
    }
    if (this.lifecycle === 'warming') this.lifecycle = 'warm';
    this.counters.warmed(performance.now() - startedAt);
    const stats = this.stats();
    this.log.debug({ pool: stats }, 'db pool: warm');
    return stats;
  }

  /** `SELECT 1` on every idle connection at once; the ones that fail are replaced. */
  private async validateIdle(): Promise<void> {
    const batch = this.takeIdle();
    for (const conn of batch) this.setState(conn, 'validating');
    await Promise.all(
      batch.map((conn) =>
        conn.validate(this.opts.connectTimeoutMs).then(
          () => {
            if (conn.state !== 'validating') return;
            this.setState(conn, 'busy');
            conn.acquiredAt = performance.now();
            this.release(conn);
          },
          (err: unknown) => this.destroy(conn, err),
        ),
      ),
    );
  }

  private whenFull(timeoutMs: number): Promise<void> {
    if (this.isShut()) return Promise.reject(new PoolWarmError('POOL_CLOSED', 'the pool is closed'));
    if (this.open() === this.opts.size || (this.serverFull && this.open() > 0)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => {
          this.fullListener = undefined;
          const { total, target } = this.stats();
          const last = this.counters.lastError;
          const lastText = last ? `; last error ${last.code}: ${last.message}` : '';
          reject(
            new PoolWarmError(
              'WARM_TIMEOUT',
              `warm-up did not fill the pool within ${this.opts.warmTimeoutMs} ms (${total}/${target} open${lastText})`,
              { cause: last ?? undefined },
            ),
          );
        },
        Math.max(0, timeoutMs),
      );
      this.fullListener = (err) => {
        clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      };
    });
  }

  private settleFull(err: Error | undefined): void {
    const listener = this.fullListener;
    this.fullListener = undefined;
    listener?.(err);
  }

  private rejectWaiters(err: PoolUnavailableError): void {
    this.waiters.rejectAll(err);
  }

  /** No connection open and the last connect failed: the database is known to be unreachable. */
  private isDown(): boolean {
    return this.connectFailures > 0 && this.open() === 0;
  }

  private downError(): PoolUnavailableError {
    const last = this.counters.lastError;
    const retryAfterS = Math.max(1, Math.ceil((this.nextProbeAt - performance.now()) / 1000));
    return new PoolUnavailableError(
      'DATABASE_DOWN',
      `the database is unreachable (${last ? `${last.code}: ${last.message}` : 'no connection'}); probing`,
      retryAfterS,
    );
  }

  private acquireTimeoutError(): PoolUnavailableError {
    return new PoolUnavailableError(
      'ACQUIRE_TIMEOUT',
      `Connection is not available, request timed out after ${this.opts.acquireTimeoutMs} ms (${describeCounts(this.liveCounts())})`,
    );
  }
}

function closedError(): PoolUnavailableError {
  return new PoolUnavailableError('POOL_CLOSED', 'the database pool is closed');
}
