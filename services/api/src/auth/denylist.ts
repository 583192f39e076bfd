// Revoked access tokens, shared by the fleet through two tables and checked on every request from
// memory (no database round trip per request):
// - access_token_denylist: one jti per sign-out, until the token's exp;
// - member_revocation: every token of a member issued at or before revoked_before (the member was
//   deleted, changed password, or signed out more than `maxSignOutsPerMember` times within one
//   access-token lifetime).
// Each instance loads the live rows at warm-up (through the expiry indexes, so warm-up does not grow
// with history), polls for rows other instances added, and purges expired rows.
import type { BaseLogger } from 'pino';
import { REFRESH_TOKENS_SQL } from '../repositories/refresh-tokens.js';
import { issuedAtMs } from './token-id.js';

export interface DenylistDb {
  query<T = unknown>(sql: string, params?: unknown[]): Promise<T>;
}

export interface DenylistOptions {
  db: DenylistDb;
  /** Lifetime of access tokens: a member revocation is useless once every token it covers expired. */
  accessTokenTtlS: number;
  /** Default 1000. */
  pollIntervalMs?: number;
  /** A pino logger; fastify.log (a pino BaseLogger) fits as it is. */
  logger: DenylistLogger;
  /** Clock in ms, for tests. */
  now?: () => number;
  /** Expired rows are deleted every this many polls. Default 60 (a minute at the default interval). */
  purgeEveryPolls?: number;
  /** jtis kept in memory; beyond it the oldest is folded into a member cutoff. Default 100,000. */
  maxEntries?: number;
  /** A member's live sign-outs beyond this become one member revocation. Default 10. */
  maxSignOutsPerMember?: number;
}

export type DenylistLogger = Pick<BaseLogger, 'info' | 'warn'>;

/** The claims the check needs; iat and sub as in every token the API signs. */
export interface RevocableClaims {
  readonly jti: string;
  readonly sub: string;
  readonly iat?: number;
}

interface DenylistRow {
  jti: string;
  member_id: number;
  expires_at_ms: number | string;
  created_at_ms: number | string;
}

interface MemberRevocationRow {
  member_id: number;
  revoked_before_ms: number | string;
}

interface JtiEntry {
  readonly expiresAtMs: number;
  readonly memberId: number;
  /** When the sign-out was recorded: the token was issued before it. */
  readonly revokedAtMs: number;
}

const DEFAULT_POLL_INTERVAL_MS = 1_000;
const DEFAULT_MAX_ENTRIES = 100_000;
const DEFAULT_MAX_SIGN_OUTS_PER_MEMBER = 10;
// A row's created_at is taken when its INSERT runs, not when it commits, so a row can become
// visible after a later-stamped one was already read. Re-reading this window catches it.
const OVERLAP_MS = 5_000;
// Expired rows are useless (the token is refused on exp anyway); the minute of slack covers clocks.
const SLACK_MS = 60_000;
// Small batches keep each DELETE's locks and undo short next to the sign-outs inserting rows.
const PURGE_BATCH_ROWS = 1_000;
const DEFAULT_PURGE_EVERY_POLLS = 60;

// Times are written and read as UTC milliseconds computed in SQL, so neither the connection's
// time_zone nor the driver's Date conversion can shift them. Both MySQL 8.4 and MariaDB accept this.
const UTC_MS = (column: string): string => `TIMESTAMPDIFF(MICROSECOND, '1970-01-01', ${column}) DIV 1000`;
const DENYLIST_COLUMNS = `jti, member_id, ${UTC_MS('expires_at')} AS expires_at_ms, ${UTC_MS('created_at')} AS created_at_ms`;

/** Every statement of the denylist, run as they are here and by test/plans.test.ts. */
export const DENYLIST_SQL = {
  insert:
    'INSERT IGNORE INTO access_token_denylist (jti, member_id, expires_at, created_at) VALUES (?, ?, ?, UTC_TIMESTAMP(3))',
  /** Warm-up: the live rows only, through the expiry index. Param: now (UTC DATETIME). */
  load:
    `SELECT ${DENYLIST_COLUMNS} FROM access_token_denylist FORCE INDEX (ix_access_token_denylist_expires) ` +
    'WHERE expires_at > ?',
  /** Params: since, now (UTC DATETIMEs). */
  poll:
    `SELECT ${DENYLIST_COLUMNS} FROM access_token_denylist FORCE INDEX (ix_access_token_denylist_created) ` +
    'WHERE created_at >= ? AND expires_at > ?',
  liveSignOutsOfMember:
    'SELECT COUNT(*) AS n FROM access_token_denylist WHERE member_id = ? AND expires_at > UTC_TIMESTAMP(3)',
  /** Rows a member revocation covers (signed out at or before it). Params: member id twice. */
  deleteCoveredOfMember:
    'DELETE FROM access_token_denylist WHERE member_id = ? AND created_at <= ' +
    '(SELECT revoked_before FROM member_revocation WHERE member_id = ?)',
  purge: `DELETE FROM access_token_denylist WHERE expires_at < UTC_TIMESTAMP(3) - INTERVAL ${SLACK_MS / 1000} SECOND LIMIT ?`,
  revokeMember:
    'INSERT INTO member_revocation (member_id, revoked_before) VALUES (?, UTC_TIMESTAMP(3)) ' +
    'ON DUPLICATE KEY UPDATE revoked_before = UTC_TIMESTAMP(3)',
  serverNow: `SELECT ${UTC_MS('UTC_TIMESTAMP(3)')} AS now_ms`,
  /** Load (since = now - access TTL) and poll (since = newest seen - overlap) alike. */
  membersSince: `SELECT member_id, ${UTC_MS('revoked_before')} AS revoked_before_ms FROM member_revocation WHERE revoked_before >= ?`,
  /** Param: the time before which every covered token has expired. */
  purgeMembers: 'DELETE FROM member_revocation WHERE revoked_before < ? LIMIT ?',
} as const;

/** 'YYYY-MM-DD hh:mm:ss.sss' in UTC: a DATETIME(3) literal both servers parse. */
function utcDatetime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 23).replace('T', ' ');
}

type MemberRevocationListener = (memberId: number, revokedBeforeMs: number) => void;
// The running denylists of this process (one per app; tests may run several).
const localListeners = new Set<MemberRevocationListener>();

/**
 * Applies a member revocation at once to every running denylist of this process; other processes
 * read it from member_revocation on their next poll. Applied before the caller's commit: if the
 * transaction rolls back, this process still refuses the member's older tokens until they expire,
 * which errs on the safe side.
 */
export function applyMemberRevocationLocally(memberId: number, revokedBeforeMs: number): void {
  for (const listener of localListeners) listener(memberId, revokedBeforeMs);
}

export class Denylist {
  readonly #db: DenylistDb;
  readonly #accessTtlMs: number;
  readonly #pollIntervalMs: number;
  readonly #logger: DenylistLogger;
  readonly #now: () => number;
  readonly #maxEntries: number;
  readonly #maxSignOutsPerMember: number;
  /** jti -> its entry, oldest inserted first (what folding takes). */
  readonly #jtis = new Map<string, JtiEntry>();
  /** member id -> tokens issued at or before this (ms) are refused. */
  readonly #memberCutoffMs = new Map<number, number>();
  /** Newest created_at / revoked_before seen, in ms; the next poll reads from here minus the overlap. */
  #jtiHighWaterMs = 0;
  #memberHighWaterMs = 0;
  #loaded = false;
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #failedPolls = 0;
  readonly #purgeEveryPolls: number;
  #pollsSincePurge = 0;
  #folded = 0;
  readonly #onMemberRevoked: MemberRevocationListener = (memberId, ms) => this.#cutMember(memberId, ms);

  constructor(opts: DenylistOptions) {
    this.#db = opts.db;
    this.#accessTtlMs = opts.accessTokenTtlS * 1000;
    this.#pollIntervalMs = opts.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    this.#logger = opts.logger;
    this.#now = opts.now ?? Date.now;
    this.#purgeEveryPolls = opts.purgeEveryPolls ?? DEFAULT_PURGE_EVERY_POLLS;
    this.#maxEntries = opts.maxEntries ?? DEFAULT_MAX_ENTRIES;
    this.#maxSignOutsPerMember = opts.maxSignOutsPerMember ?? DEFAULT_MAX_SIGN_OUTS_PER_MEMBER;
  }

  /**
   * Records a sign-out and applies it here at once; other instances see it on their next poll. A
   * member's sign-outs beyond the limit become one member revocation, so the table holds at most
   * limit + 1 live rows per member: the member's other access tokens stop too, their refresh tokens
   * still work.
   */
  async revoke(jti: string, memberId: number, expiresAt: Date): Promise<void> {
    const expiresAtMs = expiresAt.getTime();
    this.#add(jti, { expiresAtMs, memberId, revokedAtMs: this.#now() });
    await this.#db.query(DENYLIST_SQL.insert, [jti, memberId, utcDatetime(expiresAtMs)]);
    const [live] = await this.#db.query<{ n: number | string }[]>(DENYLIST_SQL.liveSignOutsOfMember, [memberId]);
    if (Number(live?.n ?? 0) <= this.#maxSignOutsPerMember) return;
    // The revocation is written first, so a concurrent poll sees the rows or the revocation covering them.
    await this.#db.query(DENYLIST_SQL.revokeMember, [memberId]);
    this.#cutMember(memberId, this.#now());
    await this.#db.query(DENYLIST_SQL.deleteCoveredOfMember, [memberId, memberId]);
  }

  /** The hot-path check: memory only. */
  isRevoked(claims: RevocableClaims): boolean {
    if (this.#jtis.has(claims.jti)) return true;
    if (this.#memberCutoffMs.size === 0) return false;
    const cutoffMs = this.#memberCutoffMs.get(Number(claims.sub));
    return cutoffMs !== undefined && issuedAtMs(claims.jti, claims.iat) <= cutoffMs;
  }

  has(jti: string): boolean {
    return this.#jtis.has(jti);
  }

  size(): { jtis: number; members: number; folded: number } {
    return { jtis: this.#jtis.size, members: this.#memberCutoffMs.size, folded: this.#folded };
  }

  /** Loads every live row (a failure rejects, so a broken database shows at boot), then polls. */
  async start(): Promise<void> {
    if (this.#running) return;
    await this.#load();
    this.#running = true;
    localListeners.add(this.#onMemberRevoked);
    this.#schedule();
  }

  stop(): void {
    this.#running = false;
    localListeners.delete(this.#onMemberRevoked);
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #add(jti: string, entry: JtiEntry): void {
    if (entry.expiresAtMs <= this.#now() || this.#jtis.has(jti)) return;
    // At the bound, forgetting a jti would let its token work again; folding it into a cutoff for its
    // member refuses it still (with the member's other tokens issued before that sign-out).
    if (this.#jtis.size >= this.#maxEntries) {
      const [oldestJti, oldest] = this.#jtis.entries().next().value!;
      this.#jtis.delete(oldestJti);
      this.#cutMember(oldest.memberId, oldest.revokedAtMs);
      this.#folded++;
    }
    this.#jtis.set(jti, entry);
  }

  #cutMember(memberId: number, revokedBeforeMs: number): void {
    // Useless once every token it covers has expired.
    if (revokedBeforeMs + this.#accessTtlMs + SLACK_MS <= this.#now()) return;
    const current = this.#memberCutoffMs.get(memberId) ?? 0;
    if (revokedBeforeMs > current) this.#memberCutoffMs.set(memberId, revokedBeforeMs);
  }

  async #load(): Promise<void> {
    const nowMs = this.#now();
    const rows = this.#loaded
      ? await this.#db.query<DenylistRow[]>(DENYLIST_SQL.poll, [
          utcDatetime(this.#jtiHighWaterMs - OVERLAP_MS),
          utcDatetime(nowMs),
        ])
      : await this.#db.query<DenylistRow[]>(DENYLIST_SQL.load, [utcDatetime(nowMs)]);
    const memberSinceMs = this.#loaded ? this.#memberHighWaterMs - OVERLAP_MS : nowMs - this.#accessTtlMs - SLACK_MS;
    const members = await this.#db.query<MemberRevocationRow[]>(DENYLIST_SQL.membersSince, [
      utcDatetime(memberSinceMs),
    ]);
    // Keyed by jti and member, so rows read again inside the overlap are deduplicated for free.
    for (const row of rows) {
      const revokedAtMs = Number(row.created_at_ms);
      this.#add(row.jti, { expiresAtMs: Number(row.expires_at_ms), memberId: row.member_id, revokedAtMs });
      this.#jtiHighWaterMs = Math.max(this.#jtiHighWaterMs, revokedAtMs);
    }
    for (const row of members) {
      const revokedBeforeMs = Number(row.revoked_before_ms);
      this.#cutMember(row.member_id, revokedBeforeMs);
      this.#memberHighWaterMs = Math.max(this.#memberHighWaterMs, revokedBeforeMs);
    }
    if (!this.#loaded) {
      // Nothing seen yet: the next poll starts from the server's time of the load, not from 1970.
      const [server] = await this.#db.query<{ now_ms: number | string }[]>(DENYLIST_SQL.serverNow);
      const serverNowMs = Number(server!.now_ms);
      if (this.#jtiHighWaterMs === 0) this.#jtiHighWaterMs = serverNowMs;
      if (this.#memberHighWaterMs === 0) this.#memberHighWaterMs = serverNowMs;
      this.#loaded = true;
    }
  }

  #dropExpired(): void {
    const nowMs = this.#now();
    for (const [jti, entry] of this.#jtis) {
      if (entry.expiresAtMs <= nowMs) this.#jtis.delete(jti);
    }
    for (const [memberId, cutoffMs] of this.#memberCutoffMs) {
      if (cutoffMs + this.#accessTtlMs + SLACK_MS <= nowMs) this.#memberCutoffMs.delete(memberId);
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

  /**
   * Deletes expired rows of the token tables in short batches until none is left (every instance
   * does it; a batch another instance emptied just deletes nothing). A failure is logged and the next
   * purge tries again.
   */
  async #purge(): Promise<void> {
    const memberCutoff = utcDatetime(this.#now() - this.#accessTtlMs - SLACK_MS);
    const jobs: Array<[table: string, sql: string, params: unknown[]]> = [
      ['access_token_denylist', DENYLIST_SQL.purge, [PURGE_BATCH_ROWS]],
      ['member_revocation', DENYLIST_SQL.purgeMembers, [memberCutoff, PURGE_BATCH_ROWS]],
      ['refresh_token', REFRESH_TOKENS_SQL.purgeExpired, [PURGE_BATCH_ROWS]],
    ];
    const deleted: Record<string, number> = {};
    try {
      for (const [table, sql, params] of jobs) {
        deleted[table] = 0;
        for (;;) {
          const result = await this.#db.query<{ affectedRows: number }>(sql, params);
          deleted[table] += result.affectedRows;
          if (result.affectedRows < PURGE_BATCH_ROWS || !this.#running) break;
        }
      }
    } catch (err) {
      this.#logger.warn({ err, deleted }, 'token tables purge failed');
      return;
    }
    if (Object.values(deleted).some((n) => n > 0)) this.#logger.info({ deleted }, 'purged expired token rows');
  }
}
