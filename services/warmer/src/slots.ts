// Fleet warm slots: at most K APIs warm at once across the whole fleet, coordinated through the
// database itself with GET_LOCK('<prefix>.<i>', 0) on K names. A session's named locks vanish
// when it dies, so a crashed warmer never keeps a slot.
//
// Connection budget: the pool plan reserves WARM_SLOTS (K) connections for warmers. A warmer keeps
// its one connection open only while it holds a slot, or for the few milliseconds of one try over
// the K names; between tries it closes it. So at most K warmers hold a connection for any length
// of time (one per held lock) and an idle or waiting warmer holds none.
//
// A holder that dies without its TCP connection closing (a frozen host, a lost network) would keep
// its slot until the server's wait_timeout (600 s in my.cnf). So the session's wait_timeout is cut to
// the longest a healthy holder stays silent plus a margin, a held lease pings (`DO 1`) every
// PING_INTERVAL_MS so it never looks idle, and TCP keepalive finds a vanished peer.
import mysql from 'mysql2/promise';
import { connectionOptions } from '@mokakbab/config';
import { backoffMs, errorMessage, sleep } from './backoff.js';

export interface SlotLease {
  readonly index: number;
  readonly name: string;
  /** Time spent waiting for a free slot (DB retries included). */
  readonly waitMs: number;
  /** The server's connection count, read on the slot's own session (see ServerRoom). */
  room(): Promise<ServerRoom>;
  release(): Promise<void>;
}

/** What the room check reads, on the session that holds the slot. */
export interface ServerRoom {
  /** @@GLOBAL.max_connections. */
  readonly maxConnections: number;
  /** SHOW GLOBAL STATUS Threads_connected: every open session, this slot's own included. */
  readonly threadsConnected: number;
  /**
   * The fleet's other slots that are held. Each holder is checking or warming (a warmer that finds
   * no room gives its slot back), so its pool may still open connections Threads_connected does not
   * show yet: two holders checking at once would otherwise both see the same free connections.
   */
  readonly otherHolders: number;
}

/** How often (by default) a connection that holds a slot sends `DO 1`, so a healthy holder is never idle for long. */
const PING_INTERVAL_MS = 10_000;
/** Added to the longest silence of a healthy holder for the session's wait_timeout. */
const WAIT_TIMEOUT_MARGIN_S = 30;

export interface FleetSlotsOptions {
  databaseUrl: URL;
  /** DATABASE_CA: PEM or path. */
  databaseCa?: string | undefined;
  slots: number;
  prefix: string;
  /** Longest one warm-up holds a slot (WARMER_WARM_TIMEOUT_MS); sets the session's wait_timeout. */
  warmTimeoutMs: number;
  /** Bounds the connect and each lock query. */
  queryTimeoutMs?: number;
  /** How often a connection holding a slot pings; tests shorten it. */
  pingIntervalMs?: number;
  backoff?: { initialMs: number; maxMs: number };
}

/** Called before each wait with why no slot was taken. */
export type SlotWaitListener = (reason: string, kind: 'busy' | 'database') => void;

export interface SlotsStatus {
  slots: number;
  prefix: string;
  held: number[];
  connected: boolean;
  /** The slot session's wait_timeout as the server reports it (null before the first connect). */
  waitTimeoutS: number | null;
  lastError: string | null;
}

export class FleetSlots {
  readonly #opts: Required<Omit<FleetSlotsOptions, 'databaseCa'>> & Pick<FleetSlotsOptions, 'databaseCa'>;
  #conn: mysql.Connection | undefined;
  #connecting: Promise<mysql.Connection> | undefined;
  /** index -> lease token. Also reserves an index before its GET_LOCK: the same session may take
   * one name twice (locks are re-entrant), so two local targets must never try the same name. */
  readonly #held = new Map<number, symbol>();
  #trying = 0;
  #lastError: string | null = null;
  #pinger: NodeJS.Timeout | undefined;
  #sessionWaitTimeoutS: number | null = null;

  constructor(opts: FleetSlotsOptions) {
    this.#opts = {
      queryTimeoutMs: 5_000,
      pingIntervalMs: PING_INTERVAL_MS,
      backoff: { initialMs: 100, maxMs: 2_000 },
      ...opts,
    };
  }

  status(): SlotsStatus {
    return {
      slots: this.#opts.slots,
      prefix: this.#opts.prefix,
      held: [...this.#held.keys()].sort((a, b) => a - b),
      connected: this.#conn !== undefined,
      waitTimeoutS: this.#sessionWaitTimeoutS,
      lastError: this.#lastError,
    };
  }

  /** Waits for any free slot; undefined when `signal` aborts first. */
  async acquire(signal: AbortSignal, onWait?: SlotWaitListener): Promise<SlotLease | undefined> {
    const startedAt = performance.now();
    for (let attempt = 0; !signal.aborted; attempt++) {
      try {
        const index = await this.#tryOnce();
        if (index !== undefined) {
          this.#lastError = null;
          return this.#lease(index, performance.now() - startedAt);
        }
        onWait?.(`all ${this.#opts.slots} warm slots are taken`, 'busy');
      } catch (err) {
        this.#lastError = `slot database unreachable: ${errorMessage(err)}`;
        onWait?.(this.#lastError, 'database');
      }
      if (!(await sleep(backoffMs(attempt, this.#opts.backoff), signal))) break;
    }
    return undefined;
  }

  /** Ends the connection; the server frees every lock it held. */
  async close(): Promise<void> {
    this.#held.clear();
    await this.#endConnection();
  }

  async #tryOnce(): Promise<number | undefined> {
    this.#trying++;
    try {
      const conn = await this.#connect();
      for (let i = 0; i < this.#opts.slots; i++) {
        if (this.#held.has(i)) continue;
        const token = Symbol(`slot ${i}`);
        this.#held.set(i, token);
        let got = false;
        try {
          const [rows] = await conn.query<mysql.RowDataPacket[]>({
            sql: 'SELECT GET_LOCK(?, 0) AS got',
            values: [this.#name(i)],
            timeout: this.#opts.queryTimeoutMs,
          });
          got = rows[0]?.got === 1;
        } finally {
          if (!got && this.#held.get(i) === token) this.#held.delete(i);
        }
        if (got) {
          this.#startPinging();
          return i;
        }
      }
      return undefined;
    } finally {
      this.#trying--;
      this.#closeWhenIdle();
    }
  }

  #lease(index: number, waitMs: number): SlotLease {
    const token = this.#held.get(index);
    let released = false;
    return {
      index,
      name: this.#name(index),
      waitMs,
      room: async () => {
        const conn = this.#conn;
        if (this.#held.get(index) !== token || !conn) throw new Error(`slot ${index} was lost with its connection`);
        return this.#room(conn, index);
      },
      release: async () => {
        if (released) return;
        released = true;
        if (this.#held.get(index) !== token) return; // lost with its connection
        const conn = this.#conn;
        try {
          if (conn) {
            await conn.query({
              sql: 'SELECT RELEASE_LOCK(?)',
              values: [this.#name(index)],
              timeout: this.#opts.queryTimeoutMs,
            });
          }
        } catch (err) {
          // The lock dies with the session: dropping the connection frees it for sure.
          this.#lastError = `slot release failed: ${errorMessage(err)}`;
          this.#dropConnection(conn);
        } finally {
          if (this.#held.get(index) === token) this.#held.delete(index);
          this.#closeWhenIdle();
        }
      },
    };
  }

  /**
   * SHOW GLOBAL STATUS and @@GLOBAL.max_connections need no privilege and read the same on MySQL 8.4
   * and MariaDB 10.11 (their status tables are not: performance_schema vs information_schema).
   */
  async #room(conn: mysql.Connection, index: number): Promise<ServerRoom> {
    const timeout = this.#opts.queryTimeoutMs;
    const others = Array.from({ length: this.#opts.slots }, (_, i) => i).filter((i) => i !== index);
    const holders = others.length === 0 ? '0' : others.map(() => '(IS_USED_LOCK(?) IS NOT NULL)').join(' + ');
    const [limits] = await conn.query<mysql.RowDataPacket[]>({
      sql: `SELECT @@GLOBAL.max_connections AS maxConnections, ${holders} AS otherHolders`,
      values: others.map((i) => this.#name(i)),
      timeout,
    });
    const [status] = await conn.query<mysql.RowDataPacket[]>({
      sql: "SHOW GLOBAL STATUS LIKE 'Threads_connected'",
      timeout,
    });
    const room = {
      maxConnections: Number(limits[0]?.maxConnections),
      threadsConnected: Number(status[0]?.Value),
      otherHolders: Number(limits[0]?.otherHolders),
    };
    if (!Object.values(room).every(Number.isInteger)) throw new Error(`unexpected answer ${JSON.stringify(room)}`);
    return room;
  }

  #name(index: number): string {
    return `${this.#opts.prefix}.${index}`;
  }

  /** The session's wait_timeout: a dead holder's locks are freed this long after its last ping. */
  get waitTimeoutS(): number {
    return Math.ceil(this.#opts.warmTimeoutMs / 1000) + WAIT_TIMEOUT_MARGIN_S;
  }

  #connect(): Promise<mysql.Connection> {
    if (this.#conn) return Promise.resolve(this.#conn);
    this.#connecting ??= mysql
      .createConnection({
        ...connectionOptions(this.#opts.databaseUrl, this.#opts.databaseCa),
        connectTimeout: this.#opts.queryTimeoutMs,
        enableKeepAlive: true,
        keepAliveInitialDelay: this.#opts.pingIntervalMs,
      })
      .then(async (conn) => {
        conn.on('error', (err: Error) => {
          this.#lastError = `slot connection lost: ${errorMessage(err)}`;
          this.#dropConnection(conn);
        });
        try {
          // wait_timeout is what frees a dead holder's locks; net_read/write_timeout only bound a
          // packet in the middle of a query, which the lock queries' own timeouts already cover.
          const timeout = this.#opts.queryTimeoutMs;
          await conn.query({ sql: `SET SESSION wait_timeout = ${this.waitTimeoutS}`, timeout });
          const [rows] = await conn.query<mysql.RowDataPacket[]>({
            sql: 'SELECT @@session.wait_timeout AS s',
            timeout,
          });
          this.#sessionWaitTimeoutS = Number(rows[0]?.s);
        } catch (err) {
          conn.destroy();
          throw err;
        }
        this.#conn = conn;
        return conn;
      })
      .finally(() => {
        this.#connecting = undefined;
      });
    return this.#connecting;
  }

  /** A dead session has lost its locks: forget them so they are neither released nor reported. */
  #dropConnection(conn: mysql.Connection | undefined): void {
    if (!conn || this.#conn !== conn) return;
    this.#stopPinging();
    this.#conn = undefined;
    this.#held.clear();
    conn.destroy();
  }

  #closeWhenIdle(): void {
    if (this.#held.size === 0 && this.#trying === 0) void this.#endConnection();
  }

  /** While a lease is held: `DO 1` every PING_INTERVAL_MS, so the short wait_timeout never cuts it. */
  #startPinging(): void {
    this.#pinger ??= setInterval(() => {
      const conn = this.#conn;
      if (!conn || this.#held.size === 0) return this.#stopPinging();
      conn.query({ sql: 'DO 1', timeout: this.#opts.queryTimeoutMs }).catch((err: unknown) => {
        // The session (and its locks) may be gone; the next release or try finds out.
        this.#lastError = `slot ping failed: ${errorMessage(err)}`;
        this.#dropConnection(conn);
      });
    }, this.#opts.pingIntervalMs).unref();
  }

  #stopPinging(): void {
    clearInterval(this.#pinger);
    this.#pinger = undefined;
  }

  async #endConnection(): Promise<void> {
    this.#stopPinging();
    const conn = this.#conn;
    this.#conn = undefined;
    if (!conn) return;
    try {
      await conn.end();
    } catch {
      conn.destroy();
    }
  }
}
