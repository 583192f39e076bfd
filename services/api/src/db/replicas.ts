/*
 * Read routing over read replicas: the one place that decides which server runs a read.
 *
 * - Idempotent reads outside a write request go to the replica in rotation with the fewest reads
 *   outstanding (ties rotate); everything else (writes, transactions, reads inside a non-GET
 *   request) stays on the primary.
 * - Read-your-writes: a member whose write request finished less than `stickyMs` ago reads from
 *   the primary. Chosen over a GTID wait because it costs no round trip per write or read, needs
 *   nothing from the server (managed reader endpoints such as Aurora's expose no GTID wait), and
 *   is bounded by the same lag limit that keeps a replica in rotation: stickyMs = REPLICA_MAX_LAG_MS
 *   + 2 probe intervals (one for the probe's age, one for the resolution of the samples), so once
 *   the window is over every replica in rotation has applied the member's write.
 * - Lag, every probe interval: the primary's GTID position is sampled with its time; a replica's
 *   lag is how long ago the oldest sample it has not applied was taken (0 when it has them all),
 *   so it rises by real time while a replica stalls, at the resolution of one interval, and needs
 *   no table or writes. Above maxLagMs the replica leaves the rotation; it returns once its lag is
 *   back under. A probe that fails or does not answer within one interval takes it out as `down`.
 * - A read that finds its replica dead, refusing or silent past the statement deadline runs on the
 *   next replica, then on the primary, so a replica that dies or hangs costs a retry, never a 5xx.
 * - A replica unreachable at start has no pool yet (its size needs its max_connections): the
 *   probe keeps trying to open it, and it joins the rotation once its pool is warm.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import type { ReplicaPoolStats } from '@mokakbab/contracts';
import type { Logger } from 'pino';
import type { DbPool } from './database.js';
import { errorCode, isDeadConnectionError, isTransientConnectError, PoolUnavailableError } from './errors.js';
import { PoolCounters, type PoolStats } from './stats.js';

/** Warming: pool not warm yet; serving: in rotation; lagging: behind by more than maxLagMs; down: probe failing. */
export const REPLICA_STATES = ['warming', 'serving', 'lagging', 'down'] as const satisfies readonly ReplicaState[];
export type ReplicaState = ReplicaStats['state'];
/** One replica's entry in GET /pool (the admin contract). */
export type ReplicaStats = ReplicaPoolStats;

/** What the router knows of the request a read runs for (set per request by the replicas plugin). */
export interface ReadScope {
  /** A non-idempotent request (not GET/HEAD): its reads stay with its writes, on the primary. */
  readonly write: boolean;
  /** The signed-in member, if any, read when a read is routed (authentication runs later). */
  member(): number | undefined;
}

export interface ReplicaSource {
  /** host:port, for logs, /pool and metrics. */
  readonly server: string;
  /** Reads the replica's limits and makes its planned pool (rejects while it is unreachable). */
  readonly open: () => Promise<DbPool>;
  /** An open() already under way (started with the API). */
  readonly opening?: Promise<DbPool>;
}

export interface ReplicaRouterOptions {
  primary: DbPool;
  replicas: readonly ReplicaSource[];
  /** The GTID dialect; read from the primary's VERSION() at the first probe when not given. */
  flavor?: 'mariadb' | 'mysql';
  maxLagMs: number;
  /** Replicas that must be warm before warm() resolves. */
  required: number;
  logger: Logger;
  /** Default 1000: the lag is measured every second. */
  probeIntervalMs?: number;
}

interface Member {
  readonly server: string;
  readonly open: () => Promise<DbPool>;
  pool: DbPool | undefined;
  opening: Promise<DbPool> | undefined;
  state: ReplicaState;
  lagMs: number | null;
  outstanding: number;
  reads: number;
  /** Primary positions this replica had not applied at the last probe, oldest first. */
  pending: { position: string; atMs: number }[];
  warming: Promise<unknown> | undefined;
}

const DEFAULT_PROBE_INTERVAL_MS = 1_000;
// Ten minutes of samples: a replica further behind is out of rotation long before.
const MAX_PENDING_SAMPLES = 600;
// Above this many members, expired sticky windows are swept on the next write.
const STICKY_SWEEP_AT = 10_000;

const PRIMARY_POSITION_SQL = {
  mariadb: 'SELECT @@GLOBAL.gtid_binlog_pos AS position',
  mysql: 'SELECT @@GLOBAL.gtid_executed AS position',
} as const;
// What /pool shows for a replica whose pool could not be opened yet.
const NO_POOL_STATS: PoolStats = new PoolCounters().snapshot({
  target: 0,
  total: 0,
  idle: 0,
  busy: 0,
  connecting: 0,
  queued: 0,
  degraded: false,
});
const REPLICA_POSITION_SQL = 'SELECT @@GLOBAL.gtid_slave_pos AS position';
const MYSQL_APPLIED_SQL = 'SELECT GTID_SUBSET(?, @@GLOBAL.gtid_executed) AS applied';

/** MariaDB positions are one `domain-server-seq` per domain; seq only grows within a domain (gtid_strict_mode). */
function mariadbSeqs(position: string): Map<string, bigint> {
  const seqs = new Map<string, bigint>();
  for (const gtid of position.split(',')) {
    const [domain, , seq] = gtid.trim().split('-');
    if (domain !== undefined && seq !== undefined) seqs.set(domain, BigInt(seq));
  }
  return seqs;
}

/**
 * The replica could not run the read: no connection, a dead one, or no answer in time. A statement
 * that is wrong, or slow enough for the server's own time limit, would be so on any server: it
 * fails as it would on the primary, and the replica stays in rotation.
 */
function movesElsewhere(err: unknown): boolean {
  return err instanceof PoolUnavailableError || isDeadConnectionError(err) || isTransientConnectError(err);
}

function mariadbApplied(primary: string, replica: string): boolean {
  const applied = mariadbSeqs(replica);
  for (const [domain, seq] of mariadbSeqs(primary)) if ((applied.get(domain) ?? -1n) < seq) return false;
  return true;
}

export class ReplicaRouter {
  readonly scope = new AsyncLocalStorage<ReadScope>();
  readonly stickyMs: number;
  private readonly primary: DbPool;
  private readonly members: Member[];
  private readonly opts: ReplicaRouterOptions;
  private readonly log: Logger;
  private readonly probeIntervalMs: number;
  private readonly wroteAt = new Map<number, number>();
  private probeTimer: NodeJS.Timeout | undefined;
  private probing: Promise<void> | undefined;
  private closed = false;
  private nextTie = 0;
  private flavor: 'mariadb' | 'mysql' | undefined;
  /** Reads the primary answered in place of a replica (none in rotation, or all failed). */
  primaryFallbacks = 0;
  /** Reads kept on the primary for read-your-writes or because their request writes. */
  primaryPinned = 0;

  constructor(opts: ReplicaRouterOptions) {
    this.opts = opts;
    this.primary = opts.primary;
    this.log = opts.logger;
    this.probeIntervalMs = opts.probeIntervalMs ?? DEFAULT_PROBE_INTERVAL_MS;
    this.flavor = opts.flavor;
    this.stickyMs = opts.maxLagMs + 2 * this.probeIntervalMs;
    this.members = opts.replicas.map(({ server, open, opening }) => ({
      server,
      open,
      pool: undefined,
      opening,
      state: 'warming',
      lagMs: null,
      outstanding: 0,
      reads: 0,
      pending: [],
      warming: undefined,
    }));
  }

  /** Runs a read on the server the rules above pick. */
  async read<T>(sql: string, params?: unknown[]): Promise<T> {
    const scope = this.scope.getStore();
    if (scope !== undefined && (scope.write || this.isSticky(scope.member()))) {
      this.primaryPinned++;
      return this.primary.readHere<T>(sql, params);
    }
    const tried = new Set<Member>();
    for (let member = this.pick(tried); member !== undefined; member = this.pick(tried)) {
      tried.add(member);
      member.outstanding++;
      try {
        // In rotation means warm, so the pool exists.
        const rows = await member.pool!.readHere<T>(sql, params);
        member.reads++;
        return rows;
      } catch (err) {
        if (!movesElsewhere(err)) throw err;
        this.leaveRotation(member, err);
      } finally {
        member.outstanding--;
      }
    }
    this.primaryFallbacks++;
    return this.primary.readHere<T>(sql, params);
  }

  /** A member's write request finished: their reads stay on the primary for stickyMs. */
  noteWrite(memberId: number): void {
    const now = performance.now();
    if (this.wroteAt.size >= STICKY_SWEEP_AT) {
      for (const [id, at] of this.wroteAt) if (now - at >= this.stickyMs) this.wroteAt.delete(id);
    }
    this.wroteAt.set(memberId, now);
  }

  /**
   * Warms every replica pool; resolves once `required` of them are warm and have been probed
   * (the others join the rotation when they are). Starts the lag probe.
   */
  async warm(): Promise<void> {
    this.startProbe();
    const warms = this.members.map((m) => this.warmMember(m));
    const { required } = this.opts;
    if (required === 0) return;
    await new Promise<void>((resolve, reject) => {
      let warm = 0;
      let failed = 0;
      for (const w of warms) {
        w.then(
          () => {
            if (++warm === required) resolve();
          },
          (err: Error) => {
            if (++failed > this.members.length - required) reject(err);
          },
        );
      }
    });
    await this.probe();
  }

  stats(): ReplicaStats[] {
    return this.members.map((m) => ({
      ...(m.pool?.stats() ?? NO_POOL_STATS),
      server: m.server,
      state: m.state,
      lagMs: m.lagMs,
      outstanding: m.outstanding,
      reads: m.reads,
    }));
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.probeTimer);
    await this.probing;
    await Promise.all(this.members.flatMap((m) => (m.opening ? [m.opening.catch(() => undefined)] : [])));
    await Promise.all(this.members.flatMap((m) => (m.pool ? [m.pool.close()] : [])));
  }

  private isSticky(memberId: number | undefined): boolean {
    if (memberId === undefined) return false;
    const at = this.wroteAt.get(memberId);
    return at !== undefined && performance.now() - at < this.stickyMs;
  }

  private pick(tried: ReadonlySet<Member>): Member | undefined {
    let best: Member | undefined;
    const n = this.members.length;
    const start = this.nextTie++ % n;
    for (let i = 0; i < n; i++) {
      const m = this.members[(start + i) % n]!;
      if (m.state !== 'serving' || tried.has(m)) continue;
      if (best === undefined || m.outstanding < best.outstanding) best = m;
    }
    return best;
  }

  private leaveRotation(member: Member, err: unknown): void {
    // A pool that is only busy (its queue or acquire deadline) is alive: this read goes elsewhere.
    const busy = err instanceof PoolUnavailableError && (err.code === 'ACQUIRE_TIMEOUT' || err.code === 'QUEUE_FULL');
    if (busy || member.state === 'down') return;
    member.state = 'down';
    member.lagMs = null;
    this.log.warn({ server: member.server, code: errorCode(err) }, 'replica left the rotation: unavailable');
  }

  private warmMember(member: Member): Promise<unknown> {
    member.warming ??= this.openMember(member)
      .then((pool) => pool.warm())
      .finally(() => {
        member.warming = undefined;
      });
    return member.warming;
  }

  private async openMember(member: Member): Promise<DbPool> {
    if (member.pool) return member.pool;
    member.opening ??= member.open();
    let pool: DbPool;
    try {
      pool = await member.opening;
    } catch (err) {
      member.opening = undefined;
      throw err;
    }
    if (this.closed) {
      await pool.close();
      throw new PoolUnavailableError('POOL_CLOSED', 'the replica router closed while the pool opened');
    }
    member.pool ??= pool;
    return member.pool;
  }

  private startProbe(): void {
    if (this.probeTimer !== undefined || this.closed) return;
    const loop = (): void => {
      this.probeTimer = setTimeout(() => {
        void this.probe().finally(() => {
          if (!this.closed) loop();
        });
      }, this.probeIntervalMs).unref();
    };
    loop();
  }

  /** One lag measurement of every replica; concurrent callers share it. */
  private probe(): Promise<void> {
    this.probing ??= this.probeOnce().finally(() => {
      this.probing = undefined;
    });
    return this.probing;
  }

  private async probeOnce(): Promise<void> {
    let position: string;
    try {
      if (this.flavor === undefined) {
        const [version] = await this.withinInterval(this.primary.readHere<{ v: string }[]>('SELECT VERSION() AS v'));
        this.flavor = /mariadb/i.test(version!.v) ? 'mariadb' : 'mysql';
      }
      const [row] = await this.withinInterval(
        this.primary.readHere<{ position: string }[]>(PRIMARY_POSITION_SQL[this.flavor]),
      );
      position = row!.position;
    } catch (err) {
      // No primary position, no lag: the replicas keep the state of the last probe.
      this.log.debug({ code: errorCode(err) }, 'replica probe: primary position unavailable');
      return;
    }
    const atMs = performance.now();
    await Promise.all(this.members.map((m) => this.probeMember(m, position, atMs)));
  }

  private async probeMember(member: Member, position: string, atMs: number): Promise<void> {
    const last = member.pending.at(-1);
    if (position !== '' && last?.position !== position && member.pending.length < MAX_PENDING_SAMPLES) {
      member.pending.push({ position, atMs });
    }
    if (!member.pool?.stats().warm) {
      // Never opened or warmed (it was down at start): in the background; probed once warm.
      void this.warmMember(member).catch((err: unknown) => {
        this.log.warn(
          { server: member.server, code: errorCode(err), message: (err as Error).message },
          'replica not open yet',
        );
      });
      return;
    }
    const pool = member.pool;
    try {
      await this.withinInterval(this.dropApplied(member, pool));
    } catch (err) {
      if (member.state !== 'down') {
        this.log.warn({ server: member.server, code: errorCode(err) }, 'replica left the rotation: probe failed');
      }
      member.state = 'down';
      member.lagMs = null;
      return;
    }
    const lagMs = member.pending.length === 0 ? 0 : Math.round(performance.now() - member.pending[0]!.atMs);
    const next: ReplicaState = lagMs > this.opts.maxLagMs ? 'lagging' : 'serving';
    if (next !== member.state) {
      this.log.info({ server: member.server, lagMs, from: member.state, to: next }, 'replica state changed');
    }
    member.state = next;
    member.lagMs = lagMs;
  }

  /** Removes the samples the replica has applied (they are in order: stop at the first it has not). */
  private async dropApplied(member: Member, pool: DbPool): Promise<void> {
    if (this.flavor === 'mariadb') {
      const [row] = await pool.readHere<{ position: string }[]>(REPLICA_POSITION_SQL);
      const applied = row!.position;
      while (member.pending.length > 0 && mariadbApplied(member.pending[0]!.position, applied)) member.pending.shift();
      return;
    }
    while (member.pending.length > 0) {
      const [row] = await pool.readHere<{ applied: number }[]>(MYSQL_APPLIED_SQL, [member.pending[0]!.position]);
      if (Number(row!.applied) !== 1) return;
      member.pending.shift();
    }
  }

  private withinInterval<T>(work: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(Object.assign(new Error('probe did not answer in time'), { code: 'PROBE_TIMEOUT' })),
        this.probeIntervalMs,
      );
    });
    return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
  }
}
