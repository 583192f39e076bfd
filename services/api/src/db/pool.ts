/*
 * A fixed-size, HikariCP-style pool over single mysql2 connections.
 *
 * Why not mysql2's createPool: it opens connections only on demand (no minimum size, no warm-up),
 * puts no bound on concurrent handshakes (a burst opens `connectionLimit` at once: the connect
 * storm this project exists to remove), has no max lifetime, its queued getConnection cannot be
 * cancelled (no acquire timeout: a waiter that gave up is still handed a connection later), and
 * its state lives in private fields (`_allConnections`, `_freeConnections`, `_connectionQueue`).
 *
 * Shape, after HikariCP's HikariPool/ConcurrentBag: idle connections on a LIFO stack (the hottest
 * connection stays hot, cold ones age out), waiters in a FIFO that a timed-out waiter leaves in
 * O(1), one fill loop that keeps `total + connecting == size` with at most `warmConcurrency`
 * handshakes in flight and backs off (full jitter) after failures, a per-connection end-of-life
 * timer with jitter, and a ping before handing out a connection idle longer than
 * aliveBypassWindowMs (HikariCP's ALIVE_BYPASS_WINDOW_MS) so the hot path never pays a round trip.
 *
 * Statements go through mysql2 `query` with `?` placeholders (values escaped client-side, one
 * round trip), not `execute`: a prepared statement costs an extra PREPARE round trip on every new
 * connection (lifetime recycling makes those frequent), holds server memory per connection and
 * counts against max_prepared_stmt_count fleet-wide, and mysql2 binds JS numbers as DOUBLE, which
 * MySQL 8 rejects in `LIMIT ?`. Measured here (MariaDB 10.11, loopback, 20-row join, 3000 runs
 * after warm-up): 70 us per query vs 78 us per execute, i.e. no gain to pay those costs for.
 */
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { ConnectionOptions } from 'mysql2';
import type { Logger } from 'pino';
import { CONNECT_BACKOFF, fullJitterDelayMs } from './backoff.js';
import { PooledConnection } from './connection.js';
import {
  errorCode,
  isDeadConnectionError,
  isTransientConnectError,
  PoolUnavailableError,
  PoolWarmError,
} from './errors.js';
import { WaiterQueue, type Waiter } from './waiter-queue.js';

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
}

export interface PoolStats {
  target: number;
  total: number;
  idle: number;
  busy: number;
  connecting: number;
  queued: number;
  /** True once a full warm-up succeeded; latched. */
  warm: boolean;
  /** ISO time of the last completed warm-up. */
  warmedAt: string | null;
  /** Highest number of handshakes ever in flight at once. */
  maxConnecting: number;
  /** Connections retired for lifetime. */
  recycled: number;
  /** Connections opened to replace lost or retired ones. */
  replaced: number;
  /** Failed connects by error code. */
  connectErrors: Record<string, number>;
  lastError: { code: string; message: string; at: string } | null;
  /** Duration of the last completed warm-up. */
  lastWarmMs: number | null;
}

export interface TxConnection {
  query<T = unknown>(sql: string, params?: unknown[]): Promise<T>;
}

export interface DbPoolEvents {
  warm: [stats: PoolStats];
  'connect-error': [code: string, err: Error];
  recycle: [threadId: number];
}

const DEFAULT_ALIVE_BYPASS_WINDOW_MS = 500;
const DEADLOCK_RETRIES = 3;
const DEADLOCK_PAUSE_MS = 20;
const UTC_SESSION_SQL = "SET time_zone = '+00:00'";

type FullListener = (err?: Error) => void;

export class DbPool extends EventEmitter<DbPoolEvents> {
  private readonly opts: PoolOptions;
  private readonly log: Logger;
  private readonly connectionOptions: ConnectionOptions;
  private readonly aliveBypassWindowMs: number;
  /** Idle connections, most recently used last (LIFO). */
  private readonly idle: PooledConnection[] = [];
  /** Every established connection, idle or busy. */
  private readonly open = new Set<PooledConnection>();
  private readonly waiters = new WaiterQueue<PooledConnection>();
  private connecting = 0;
  /** Connections sent COM_QUIT whose socket has not closed yet. */
  private ending = 0;
  private connectFailures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Connections ever opened; the pool only opens to reach `size`, so each beyond it replaced one. */
  private openedCount = 0;
  private closed = false;
  private closing: Promise<void> | undefined;
  private onDrained: (() => void) | undefined;
  private warming: Promise<PoolStats> | undefined;
  private fullListener: FullListener | undefined;
  private warmed = false;
  private warmedAt: string | null = null;
  private lastWarmMs: number | null = null;
  private maxConnecting = 0;
  private recycled = 0;
  private replaced = 0;
  private readonly connectErrors: Record<string, number> = {};
  private lastError: PoolStats['lastError'] = null;
  private readonly onLost = (conn: PooledConnection, err: Error): void => this.handleLost(conn, err);

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
  }

  stats(): PoolStats {
    return {
      target: this.opts.size,
      total: this.open.size,
      idle: this.idle.length,
      busy: this.open.size - this.idle.length,
      connecting: this.connecting,
      queued: this.waiters.length,
      warm: this.warmed,
      warmedAt: this.warmedAt,
      maxConnecting: this.maxConnecting,
      recycled: this.recycled,
      replaced: this.replaced,
      connectErrors: { ...this.connectErrors },
      lastError: this.lastError && { ...this.lastError },
      lastWarmMs: this.lastWarmMs,
    };
  }

  /**
   * Opens and validates every connection. Concurrent callers share one warm-up; on a full pool it
   * re-validates the idle connections and resolves quickly. Rejects with PoolWarmError after
   * warmTimeoutMs (the pool keeps filling in the background) or on an error retrying cannot fix.
   */
  warm(): Promise<PoolStats> {
    if (this.closed) return Promise.reject(new PoolWarmError('POOL_CLOSED', 'the pool is closed'));
    this.warming ??= this.runWarm().finally(() => {
      this.warming = undefined;
    });
    return this.warming;
  }

  async query<T = unknown>(sql: string, params?: unknown[]): Promise<T> {
    return this.run<T>(await this.acquire(false, this.acquireDeadline()), sql, params);
  }

  /**
   * Like query, but a read that failed because its connection was dead runs once more on a
   * validated one, within what is left of the same acquire deadline.
   */
  async read<T = unknown>(sql: string, params?: unknown[]): Promise<T> {
    const deadline = this.acquireDeadline();
    try {
      return await this.run<T>(await this.acquire(false, deadline), sql, params);
    } catch (err) {
      if (this.closed || !isDeadConnectionError(err)) throw err;
      this.log.warn({ code: errorCode(err) }, 'db pool: read failed on a dead connection, retrying once');
      return this.run<T>(await this.acquire(true, deadline), sql, params);
    }
  }

  /** Runs fn inside BEGIN/COMMIT on one connection; ROLLBACK when fn or COMMIT throws. */
  /**
   * Runs `fn` in a transaction. A deadlock (InnoDB rolls the whole transaction back and names a
   * victim) is retried, up to DEADLOCK_RETRIES times after a short random pause, so concurrent
   * writers of the same rows see each other's result instead of a 503; `fn` must only touch the
   * database, as it may run more than once.
   */
  async transaction<T>(fn: (conn: TxConnection) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.transactionOnce(fn);
      } catch (err) {
        if (attempt >= DEADLOCK_RETRIES || errorCode(err) !== 'ER_LOCK_DEADLOCK') throw err;
        await new Promise((resolve) => setTimeout(resolve, 1 + Math.random() * DEADLOCK_PAUSE_MS));
      }
    }
  }

  private async transactionOnce<T>(fn: (conn: TxConnection) => Promise<T>): Promise<T> {
    const conn = await this.acquire(false, this.acquireDeadline());
    let dead = false;
    let finished = false;
    const tx: TxConnection = {
      query: <R>(sql: string, params?: unknown[]): Promise<R> => {
        if (finished) return Promise.reject(new Error('transaction already finished'));
        return conn.query<R>(sql, params).catch((err: unknown) => {
          if (isDeadConnectionError(err)) dead = true;
          throw err;
        });
      },
    };
    try {
      await conn.query('START TRANSACTION', undefined);
      const result = await fn(tx);
      await conn.query('COMMIT', undefined);
      finished = true;
      this.release(conn, false);
      return result;
    } catch (err) {
      finished = true;
      dead ||= isDeadConnectionError(err);
      if (!dead) {
        // A connection whose ROLLBACK fails is in an unknown state: never hand it out again.
        await conn.query('ROLLBACK', undefined).catch(() => {
          dead = true;
        });
      }
      this.release(conn, dead);
      throw err;
    }
  }

  /** Rejects queued acquires (POOL_CLOSED), lets in-flight queries finish, then ends every connection. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    for (let waiter = this.waiters.shift(); waiter; waiter = this.waiters.shift()) {
      clearTimeout(waiter.timer);
      waiter.reject(closedError());
    }
    this.settleFull(new PoolWarmError('POOL_CLOSED', 'the pool was closed during warm-up'));
    for (const conn of this.idle.splice(0)) {
      this.open.delete(conn);
      this.endConnection(conn);
    }
    this.closing = new Promise((resolve) => {
      this.onDrained = resolve;
      this.checkDrained();
    });
    return this.closing;
  }

  // ---- acquire / release (the hot path) ----

  private acquireDeadline(): number {
    return performance.now() + this.opts.acquireTimeoutMs;
  }

  /**
   * The deadline bounds the whole acquire, pings included: against a server that stopped
   * answering, a stack of stale idle connections would otherwise cost one ping timeout each.
   */
  private async acquire(alwaysValidate: boolean, deadline: number): Promise<PooledConnection> {
    if (this.closed) throw closedError();
    for (;;) {
      if (performance.now() >= deadline) {
        // Whatever was discarded on the way is being replaced already; this acquire gives up.
        this.fill();
        throw acquireTimeoutError(this.opts.acquireTimeoutMs);
      }
      const conn = this.idle.pop() ?? (await this.waitForConnection(deadline));
      conn.busy = true;
      const now = performance.now();
      if (!conn.broken && !alwaysValidate && now - conn.lastUsedAt <= this.aliveBypassWindowMs) return conn;
      try {
        if (conn.broken) throw new Error('connection was lost while idle');
        // A ping cut short by the deadline destroys the connection: its answer would arrive on a
        // connection nobody waits for, and a server that slow is better reconnected.
        await conn.ping(Math.max(1, Math.min(this.opts.connectTimeoutMs, deadline - now)));
        conn.lastUsedAt = performance.now();
        return conn;
      } catch (err) {
        this.discard(conn, err);
        if (this.closed) throw closedError();
      }
    }
  }

  private waitForConnection(deadline: number): Promise<PooledConnection> {
    if (this.closed) return Promise.reject(closedError());
    // Demand starts a pool nobody warmed, even when this acquire cannot wait.
    this.fill();
    const remainingMs = deadline - performance.now();
    if (remainingMs <= 0) return Promise.reject(acquireTimeoutError(this.opts.acquireTimeoutMs));
    if (this.waiters.length >= this.opts.queueLimit) {
      return Promise.reject(
        new PoolUnavailableError('QUEUE_FULL', `${this.waiters.length} requests already wait for a connection`),
      );
    }
    return new Promise<PooledConnection>((resolve, reject) => {
      const waiter: Waiter<PooledConnection> = {
        resolve,
        reject,
        timer: undefined,
        prev: undefined,
        next: undefined,
        queued: false,
      };
      waiter.timer = setTimeout(() => {
        this.waiters.remove(waiter);
        reject(acquireTimeoutError(this.opts.acquireTimeoutMs));
      }, remainingMs);
      this.waiters.push(waiter);
    });
  }

  private async run<T>(conn: PooledConnection, sql: string, params: unknown[] | undefined): Promise<T> {
    let result: T;
    try {
      result = await conn.query<T>(sql, params);
    } catch (err) {
      if (isDeadConnectionError(err)) this.discard(conn, err);
      else this.release(conn, false);
      throw err;
    }
    this.release(conn, false);
    return result;
  }

  private release(conn: PooledConnection, dead: boolean): void {
    if (dead || conn.broken) {
      this.discard(conn, undefined);
      return;
    }
    const now = performance.now();
    conn.lastUsedAt = now;
    if (this.closed) {
      this.open.delete(conn);
      this.endConnection(conn);
    } else if (now >= conn.expiresAt) {
      this.retire(conn);
    } else {
      this.handOff(conn);
    }
  }

  /** Gives an available (busy-marked) connection to the oldest waiter, or puts it on the idle stack. */
  private handOff(conn: PooledConnection): void {
    const waiter = this.waiters.shift();
    if (waiter) {
      clearTimeout(waiter.timer);
      waiter.resolve(conn);
      return;
    }
    conn.busy = false;
    this.idle.push(conn);
  }

  // ---- losing and retiring connections ----

  private handleLost(conn: PooledConnection, err: Error): void {
    // Busy ones are discarded when released (their query fails too); connecting ones are not ours yet.
    if (conn.busy || !this.open.has(conn)) return;
    this.discard(conn, err);
  }

  private discard(conn: PooledConnection, err: unknown): void {
    if (!this.open.has(conn)) {
      conn.destroy();
      return;
    }
    this.remove(conn);
    conn.destroy();
    if (this.closed) {
      this.checkDrained();
      return;
    }
    this.log.warn(
      { threadId: conn.threadId, code: err === undefined ? undefined : errorCode(err) },
      'db pool: connection lost, replacing it',
    );
    this.fill();
  }

  private retire(conn: PooledConnection): void {
    this.remove(conn);
    this.endConnection(conn);
    this.recycled++;
    this.log.debug({ threadId: conn.threadId }, 'db pool: connection reached its max lifetime');
    this.emit('recycle', conn.threadId);
    this.fill();
  }

  private remove(conn: PooledConnection): void {
    this.open.delete(conn);
    if (!conn.busy) {
      const at = this.idle.lastIndexOf(conn);
      if (at !== -1) this.idle.splice(at, 1);
    }
  }

  // ---- opening connections ----

  /** Opens connections until total + connecting == size, at most warmConcurrency at a time. */
  private fill(): void {
    if (this.closed || this.retryTimer !== undefined) return;
    while (this.open.size + this.connecting < this.opts.size && this.connecting < this.opts.warmConcurrency) {
      this.openOne();
    }
  }

  private openOne(): void {
    this.connecting++;
    if (this.connecting > this.maxConnecting) this.maxConnecting = this.connecting;
    const conn = new PooledConnection(this.connectionOptions, this.onLost);
    conn
      .connect()
      // UTC sessions: CURRENT_TIMESTAMP defaults and mysql2's `timezone: 'Z'` reads then agree
      // whatever time zone the server or this process runs in.
      .then(() => conn.statement(UTC_SESSION_SQL, this.opts.connectTimeoutMs))
      .then(() => conn.validate(this.opts.connectTimeoutMs))
      .then(
        () => this.opened(conn),
        (err: unknown) => this.openFailed(conn, err),
      )
      // A bug in the bookkeeping above must show in the logs, not as an unhandled rejection.
      .catch((err: unknown) => this.log.error({ err }, 'db pool: opening a connection failed unexpectedly'));
  }

  private opened(conn: PooledConnection): void {
    this.connecting--;
    this.connectFailures = 0;
    if (this.closed) {
      this.endConnection(conn);
      return;
    }
    if (++this.openedCount > this.opts.size) this.replaced++;
    const now = performance.now();
    const lifetimeMs = this.opts.maxLifetimeMs - Math.random() * this.opts.lifetimeJitterMs;
    conn.expiresAt = now + lifetimeMs;
    conn.lastUsedAt = now;
    // Idle connections retire on this timer; busy ones when released past expiresAt.
    conn.lifetimeTimer = setTimeout(() => {
      if (!conn.busy && this.open.has(conn)) this.retire(conn);
    }, lifetimeMs).unref();
    this.open.add(conn);
    this.handOff(conn);
    this.fill();
    if (this.open.size === this.opts.size) this.settleFull(undefined);
  }

  private openFailed(conn: PooledConnection, err: unknown): void {
    this.connecting--;
    conn.destroy();
    if (this.closed) {
      this.checkDrained();
      return;
    }
    const error = err instanceof Error ? err : new Error(String(err));
    const code = errorCode(err);
    this.connectErrors[code] = (this.connectErrors[code] ?? 0) + 1;
    this.lastError = { code, message: error.message, at: new Date().toISOString() };
    this.emit('connect-error', code, error);
    const transient = isTransientConnectError(err);
    this.log.warn({ code, err: error, transient }, 'db pool: connect failed');
    if (!transient) {
      this.settleFull(
        new PoolWarmError('WARM_FAILED', `connect failed with ${code} (${error.message}): retrying will not fix it`, {
          cause: error,
        }),
      );
    }
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    // Failures of one round (up to warmConcurrency handshakes) share one timer and one step of backoff.
    if (this.retryTimer !== undefined) return;
    const delayMs = fullJitterDelayMs(this.connectFailures++, CONNECT_BACKOFF.baseMs, CONNECT_BACKOFF.capMs);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.fill();
    }, delayMs).unref();
  }

  // ---- warm-up ----

  private async runWarm(): Promise<PoolStats> {
    const startedAt = performance.now();
    await this.validateIdle();
    this.fill();
    await this.whenFull(this.opts.warmTimeoutMs - (performance.now() - startedAt));
    this.warmed = true;
    this.warmedAt = new Date().toISOString();
    this.lastWarmMs = Math.round(performance.now() - startedAt);
    const stats = this.stats();
    this.log.debug({ pool: stats }, 'db pool: warm');
    this.emit('warm', stats);
    return stats;
  }

  /** `SELECT 1` on every idle connection at once; the ones that fail are replaced. */
  private async validateIdle(): Promise<void> {
    const batch = this.idle.splice(0);
    for (const conn of batch) conn.busy = true;
    await Promise.all(
      batch.map((conn) =>
        conn.validate(this.opts.connectTimeoutMs).then(
          () => this.release(conn, false),
          (err: unknown) => this.discard(conn, err),
        ),
      ),
    );
  }

  private whenFull(timeoutMs: number): Promise<void> {
    if (this.closed) return Promise.reject(new PoolWarmError('POOL_CLOSED', 'the pool is closed'));
    if (this.open.size === this.opts.size) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => {
          this.fullListener = undefined;
          const { total, target } = this.stats();
          const last = this.lastError ? `; last error ${this.lastError.code}: ${this.lastError.message}` : '';
          reject(
            new PoolWarmError(
              'WARM_TIMEOUT',
              `warm-up did not fill the pool within ${this.opts.warmTimeoutMs} ms (${total}/${target} open${last})`,
              { cause: this.lastError ?? undefined },
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

  /** Ends a connection politely; close() waits until the server has closed every such socket. */
  private endConnection(conn: PooledConnection): void {
    this.ending++;
    void conn.end(this.opts.connectTimeoutMs).then(() => {
      this.ending--;
      this.checkDrained();
    });
  }

  private checkDrained(): void {
    if (this.closed && this.open.size === 0 && this.connecting === 0 && this.ending === 0 && this.onDrained) {
      const done = this.onDrained;
      this.onDrained = undefined;
      done();
    }
  }
}

function closedError(): PoolUnavailableError {
  return new PoolUnavailableError('POOL_CLOSED', 'the database pool is closed');
}

function acquireTimeoutError(acquireTimeoutMs: number): PoolUnavailableError {
  return new PoolUnavailableError('ACQUIRE_TIMEOUT', `no database connection free within ${acquireTimeoutMs} ms`);
}
