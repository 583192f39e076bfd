// One server connection as the pool sees it: the mysql2 connection plus the pool's bookkeeping.
import type { Socket } from 'node:net';
import mysql from 'mysql2';
import type { Connection, ConnectionOptions, QueryError } from 'mysql2';
import { StatementTimeoutError } from './errors.js';

export type LostListener = (conn: PooledConnection, err: Error) => void;

/**
 * Where a connection is in its life, the one fact the pool keeps about it (HikariCP's PoolEntry
 * state): handshake and session setup in flight, on the idle stack, handed out, being pinged or
 * validated, sent COM_QUIT and waiting for the server to close the socket, or gone (destroyed or
 * closed; never used again).
 */
export type ConnectionState = 'connecting' | 'idle' | 'busy' | 'validating' | 'retiring' | 'gone';

export class PooledConnection {
  readonly raw: Connection;
  /** performance.now() after which the connection retires (max lifetime minus its jitter). */
  expiresAt = Number.POSITIVE_INFINITY;
  /** performance.now() of the last hand-back; an acquire after a long idle pings first. */
  lastUsedAt = 0;
  /** performance.now() of the last hand-out; the pool averages how long connections are held. */
  acquiredAt = 0;
  /** Set by the pool only (it keeps a count per state). */
  state: ConnectionState = 'connecting';
  lifetimeTimer: NodeJS.Timeout | undefined;
  /** Handed out to a writer through the write gate (database.ts); its release gives the slot back. */
  writeSlot = false;

  constructor(options: ConnectionOptions, onLost: LostListener) {
    this.raw = mysql.createConnection(options);
    // Always listen: mysql2 emits 'error' on an idle connection the server closed, and an
    // unlistened 'error' would crash the process.
    this.raw.on('error', (err: Error) => onLost(this, err));
  }

  get threadId(): number {
    return this.raw.threadId;
  }

  /** Resolves after the handshake; mysql2's connectTimeout bounds it (then the error is ETIMEDOUT). */
  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.raw.connect((err: QueryError | null) => (err ? reject(err) : resolve()));
    });
  }

  /**
   * One statement; a server that has not answered within timeoutMs gets its connection destroyed
   * (the server-side limit answers first whenever the server still runs, see sessionVariables).
   */
  query<T>(sql: string, params: unknown[] | undefined, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let answered = false;
      const timer = setTimeout(() => {
        // Timers run before the poll phase: on a lagging event loop the answer may be sitting
        // in the socket unread. One poll phase (setImmediate) reads it before the verdict.
        setImmediate(() => {
          if (answered) return;
          this.destroy();
          reject(new StatementTimeoutError(timeoutMs));
        });
      }, timeoutMs);
      this.raw.query(sql, params, (err: QueryError | null, result: unknown) => {
        answered = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve(result as T);
      });
    });
  }

  /** `SELECT 1` within timeoutMs; a connection that does not answer in time is destroyed. */
  validate(timeoutMs: number): Promise<void> {
    return this.statement('SELECT 1', timeoutMs);
  }

  /** One statement without parameters within timeoutMs (session setup); destroyed if it does not answer. */
  statement(sql: string, timeoutMs: number): Promise<void> {
    return this.bounded(timeoutMs, (done) => this.raw.query(sql, done));
  }

  /** COM_PING within timeoutMs: one round trip, no statement parsing on the server. */
  ping(timeoutMs: number): Promise<void> {
    return this.bounded(timeoutMs, (done) => this.raw.ping(done));
  }

  /**
   * Polite close (COM_QUIT); resolves when the server has closed the socket, or after
   * graceMs when it does not, then the socket is destroyed.
   */
  end(graceMs: number): Promise<void> {
    clearTimeout(this.lifetimeTimer);
    const socket = this.socket();
    if (!socket || socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => socket.destroy(), graceMs);
      socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.raw.end(() => undefined);
    });
  }

  /** Hard close for a connection that is broken or does not answer. */
  destroy(): void {
    clearTimeout(this.lifetimeTimer);
    this.raw.destroy();
    // mysql2's destroy() only half-closes (stream.end()); a peer that never answers would keep
    // the socket, and the process, alive.
    this.socket()?.destroy();
  }

  private socket(): Socket | undefined {
    return (this.raw as unknown as { stream?: Socket }).stream;
  }

  private bounded(timeoutMs: number, run: (done: (err: QueryError | null) => void) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.destroy();
        reject(Object.assign(new Error(`connection did not answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
      }, timeoutMs);
      run((err) => {
        clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      });
    });
  }
}

export type { ConnectionOptions };
