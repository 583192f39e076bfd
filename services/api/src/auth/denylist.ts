// Revoked access-token ids (sign-out), shared by the fleet through access_token_denylist. Each
// instance keeps the unexpired ids in memory so the per-request check is one hash lookup, and polls
// the table for rows other instances added.
import type { BaseLogger } from 'pino';

export interface DenylistDb {
  query<T = unknown>(sql: string, params?: unknown[]): Promise<T>;
}

export interface DenylistOptions {
  db: DenylistDb;
  /** Default 1000. */
  pollIntervalMs?: number;
  /** A pino logger; fastify.log (a pino BaseLogger) fits as it is. */
  logger: DenylistLogger;
  /** Clock in ms, for tests. */
  now?: () => number;
  /** Expired rows are deleted every this many polls. Default 60 (a minute at the default interval). */
  purgeEveryPolls?: number;
}

export type DenylistLogger = Pick<BaseLogger, 'info' | 'warn'>;

interface DenylistRow {
  jti: string;
  expires_at_ms: number | string;
  created_at_ms: number | string;
}

const DEFAULT_POLL_INTERVAL_MS = 1_000;
// A row's created_at is taken when its INSERT runs, not when it commits, so a row can become
// visible after a later-stamped one was already read. Re-reading this window catches it.
const OVERLAP_MS = 5_000;

// Times are written and read as UTC milliseconds computed in SQL, so neither the connection's
// time_zone nor the driver's Date conversion can shift them. Both MySQL 8.4 and MariaDB accept this.
const UTC_MS = (column: string): string => `TIMESTAMPDIFF(MICROSECOND, '1970-01-01', ${column}) DIV 1000`;
const INSERT_SQL =
  'INSERT IGNORE INTO access_token_denylist (jti, member_id, expires_at, created_at) VALUES (?, ?, ?, UTC_TIMESTAMP(3))';
// Expired rows are useless (the token is refused on exp anyway); the minute of slack covers clocks.
// Small batches keep each DELETE's locks and undo short next to the sign-outs inserting rows.
const PURGE_BATCH_ROWS = 1_000;
const PURGE_SQL = `DELETE FROM access_token_denylist WHERE expires_at < UTC_TIMESTAMP(3) - INTERVAL 1 MINUTE LIMIT ${PURGE_BATCH_ROWS}`;
// At most this many batches a purge; what is left waits for the next one.
const PURGE_MAX_BATCHES = 20;
const DEFAULT_PURGE_EVERY_POLLS = 60;
const SELECT_SINCE_SQL =
  `SELECT jti, ${UTC_MS('expires_at')} AS expires_at_ms, ${UTC_MS('created_at')} AS created_at_ms ` +
  'FROM access_token_denylist WHERE created_at >= ? AND expires_at > ?';

/** 'YYYY-MM-DD hh:mm:ss.sss' in UTC: a DATETIME(3) literal both servers parse. */
function utcDatetime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 23).replace('T', ' ');
}

export class Denylist {
  readonly #db: DenylistDb;
  readonly #pollIntervalMs: number;
  readonly #logger: DenylistLogger;
  readonly #now: () => number;
  /** jti -> expiry in ms; an entry is useless once its token has expired anyway. */
  readonly #expiresAtMs = new Map<string, number>();
  /** Newest created_at seen, in ms; the next poll reads from here minus the overlap. */
  #highWaterMs = 0;
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #failedPolls = 0;
  readonly #purgeEveryPolls: number;
  #pollsSincePurge = 0;

  constructor(opts: DenylistOptions) {
    this.#db = opts.db;
    this.#pollIntervalMs = opts.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    this.#logger = opts.logger;
    this.#now = opts.now ?? Date.now;
    this.#purgeEveryPolls = opts.purgeEveryPolls ?? DEFAULT_PURGE_EVERY_POLLS;
  }

  /** Records the revocation and applies it here at once; other instances see it on their next poll. */
  async revoke(jti: string, memberId: number, expiresAt: Date): Promise<void> {
    const expiresAtMs = expiresAt.getTime();
    this.#add(jti, expiresAtMs);
    await this.#db.query(INSERT_SQL, [jti, memberId, utcDatetime(expiresAtMs)]);
  }

  /** The hot-path check: memory only. */
  has(jti: string): boolean {
    return this.#expiresAtMs.has(jti);
  }

  size(): number {
    return this.#expiresAtMs.size;
  }

  /** Loads every unexpired row (a failure rejects, so a broken database shows at boot), then polls. */
  async start(): Promise<void> {
    if (this.#running) return;
    await this.#load();
    this.#running = true;
    this.#schedule();
  }

  stop(): void {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #add(jti: string, expiresAtMs: number): void {
    if (expiresAtMs > this.#now()) this.#expiresAtMs.set(jti, expiresAtMs);
  }

  async #load(): Promise<void> {
    const since = this.#highWaterMs === 0 ? 0 : this.#highWaterMs - OVERLAP_MS;
    const rows = await this.#db.query<DenylistRow[]>(SELECT_SINCE_SQL, [utcDatetime(since), utcDatetime(this.#now())]);
    // Keyed by jti, so rows read again inside the overlap are deduplicated for free.
    for (const row of rows) {
      this.#add(row.jti, Number(row.expires_at_ms));
      this.#highWaterMs = Math.max(this.#highWaterMs, Number(row.created_at_ms));
    }
  }

  #dropExpired(): void {
    const nowMs = this.#now();
    for (const [jti, expiresAtMs] of this.#expiresAtMs) {
      if (expiresAtMs <= nowMs) this.#expiresAtMs.delete(jti);
    }
  }

  #schedule(): void {
    // A chain of timeouts rather than an interval: a slow query never overlaps the next one. Clearing
    // first keeps a single chain when start() follows stop() while a poll is still in flight.
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#poll(), this.#pollIntervalMs);
    this.#timer.unref();
  }

  async #poll(): Promise<void> {
    try {
      await this.#load();
      if (this.#failedPolls > 0) this.#logger.info({ failedPolls: this.#failedPolls }, 'denylist poll recovered');
      this.#failedPolls = 0;
    } catch (err) {
      // Keep what we have and try again next tick: forgetting revocations would be worse than stale.
      this.#failedPolls++;
      this.#logger.warn({ err, failedPolls: this.#failedPolls }, 'denylist poll failed');
    }
    this.#dropExpired();
    if (++this.#pollsSincePurge >= this.#purgeEveryPolls) {
      this.#pollsSincePurge = 0;
      await this.#purge();
    }
    if (this.#running) this.#schedule();
  }

  /** Deletes expired rows in batches; a failure is logged and the next purge tries again. */
  async #purge(): Promise<void> {
    let deleted = 0;
    try {
      for (let batch = 0; batch < PURGE_MAX_BATCHES; batch++) {
        const result = await this.#db.query<{ affectedRows: number }>(PURGE_SQL);
        deleted += result.affectedRows;
        if (result.affectedRows < PURGE_BATCH_ROWS || !this.#running) break;
      }
    } catch (err) {
      this.#logger.warn({ err, deleted }, 'denylist purge failed');
      return;
    }
    if (deleted > 0) this.#logger.info({ deleted }, 'denylist purged expired rows');
  }
}
