// One target API and its state machine:
// waiting-for-admin -> waiting-for-slot (<-> waiting-for-room) -> warming -> verifying -> replaying
// -> ready -> (watch),
// and back to the start when its /pool says warm:false, reports a warmedAt other than the one this
// target was made ready with (restarted and warmed on boot between two polls), or its admin port
// disappears.
import type { Logger } from 'pino';
import { AdminClient, AdminError, type PoolStats } from './admin-client.js';
import { backoffMs, errorMessage, sleep, type BackoffOptions } from './backoff.js';
import { countError, type ErrorKind, type WarmerMetrics } from './metrics.js';
import type { Phase } from './phases.js';
import { runReplay, type ReplaySpec } from './replay.js';
import type { FleetSlots, SlotLease } from './slots.js';

export interface TargetSettings {
  watchIntervalMs: number;
  warmTimeoutMs: number;
  replayDurationMs: number;
  replayConnections: number;
  /** Bounds one GET /pool and one replay request. */
  requestTimeoutMs: number;
  backoff: BackoffOptions;
  /** Consecutive failed watches (other than a refused connection) before the target is not ready. */
  watchFailureLimit: number;
  /** WARM_ROOM_TIMEOUT_MS: longest wait for room on the server; 0 warms without looking. */
  roomTimeoutMs: number;
  /** DB_RESERVED_CONNECTIONS: kept free by the room check as by the pool plan. */
  reservedConnections: number;
  /** Between two room checks (the slot is given back in between). */
  roomBackoff: BackoffOptions;
}

export interface TargetDeps {
  slots: FleetSlots;
  metrics: WarmerMetrics;
  log: Logger;
  replay: ReplaySpec | undefined;
  settings: TargetSettings;
}

export interface TargetTimings {
  slotWaitMs: number | null;
  /** Time the last warm-up waited for room on the server (null: it never had to). */
  roomWaitMs: number | null;
  warmStartedAt: string | null;
  warmEndedAt: string | null;
  warmMs: number | null;
  replayMs: number | null;
  readyAt: string | null;
}

export interface TargetStatus {
  id: string;
  adminUrl: string;
  publicUrl: string;
  phase: Phase;
  ready: boolean;
  lastError: string | null;
  slot: number | null;
  timings: TargetTimings;
  pool: PoolStats | null;
  /** The last room check (null before the first, or with WARM_ROOM_TIMEOUT_MS=0). */
  room: RoomStatus | null;
  attempts: number;
}

/**
 * One room check: free = maxConnections - reserved - threadsConnected - otherHolders x need, and the
 * pool may warm when free >= need (the connections it still has to open: target - total).
 */
export interface RoomStatus {
  need: number;
  free: number;
  maxConnections: number | null;
  reserved: number;
  threadsConnected: number | null;
  otherHolders: number | null;
  checkedAt: string;
  /** When this warm-up began to wait for room; null when it has not waited. */
  waitingSince: string | null;
  /** `room`: it fitted; `waiting`: it did not, or the count could not be read; `timeout`: it warmed anyway. */
  verdict: 'room' | 'waiting' | 'timeout';
  /** Why the count could not be read, when it could not. */
  error: string | null;
}

export class Target {
  readonly id: string;
  readonly #adminUrl: URL;
  readonly #publicUrl: URL;
  readonly #deps: TargetDeps;
  readonly #admin: AdminClient;
  readonly #abort = new AbortController();
  #loop: Promise<void> | undefined;
  #phase: Phase = 'waiting-for-admin';
  #lastError: string | null = null;
  #slot: number | null = null;
  #pool: PoolStats | null = null;
  #room: RoomStatus | null = null;
  #attempts = 0;
  /** Whether the admin port ever answered; before that, a refused port is the API still starting. */
  #reachedAdmin = false;
  readonly #createdAt = Date.now();
  #lastLevel: 'info' | 'warn' = 'warn';
  /** `warmedAt` of the pool this target was made ready with; another one means a new process or warm-up. */
  #readyWarmedAt: string | null = null;
  #timings: TargetTimings = {
    slotWaitMs: null,
    roomWaitMs: null,
    warmStartedAt: null,
    warmEndedAt: null,
    warmMs: null,
    replayMs: null,
    readyAt: null,
  };

  constructor(id: string, adminUrl: URL, publicUrl: URL, deps: TargetDeps) {
    this.id = id;
    this.#adminUrl = adminUrl;
    this.#publicUrl = publicUrl;
    this.#deps = deps;
    this.#admin = new AdminClient(adminUrl, {
      requestTimeoutMs: deps.settings.requestTimeoutMs,
      warmTimeoutMs: deps.settings.warmTimeoutMs,
    });
  }

  get phase(): Phase {
    return this.#phase;
  }

  get ready(): boolean {
    return this.#phase === 'ready';
  }

  status(): TargetStatus {
    return {
      id: this.id,
      adminUrl: this.#adminUrl.href,
      publicUrl: this.#publicUrl.href,
      phase: this.#phase,
      ready: this.ready,
      lastError: this.#lastError,
      slot: this.#slot,
      timings: { ...this.#timings },
      pool: this.#pool,
      room: this.#room,
      attempts: this.#attempts,
    };
  }

  start(): void {
    this.#loop ??= this.#run().catch((err: unknown) => {
      // Every step handles its own errors; reaching here is a bug, still never a crash.
      this.#deps.log.error({ err, target: this.id }, 'target loop stopped');
    });
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#loop;
    await this.#admin.close();
  }

  async #run(): Promise<void> {
    const { signal } = this.#abort;
    let failures = 0;
    while (!signal.aborted) {
      this.#attempts++;
      if (await this.#cycle(signal)) {
        failures = 0;
        await this.#watch(signal);
      } else {
        await sleep(backoffMs(failures++, this.#deps.settings.backoff), signal);
      }
    }
  }

  /** One pass of the warm-up; true when the target ended ready. */
  async #cycle(signal: AbortSignal): Promise<boolean> {
    const { metrics, settings, replay } = this.#deps;
    this.#setPhase('waiting-for-admin');
    let stats = await this.#waitForAdmin(signal);
    if (!stats) return false;

    // A pool that is already full (the API warmed on boot, or this warmer restarted) needs no slot.
    if (!(stats.warm && stats.total >= stats.target)) {
      const lease = await this.#slotWithRoom(signal, stats);
      if (!lease) return false;
      try {
        this.#setPhase('warming');
        const startedAt = Date.now();
        this.#timings.warmStartedAt = new Date(startedAt).toISOString();
        this.#timings.warmEndedAt = null;
        try {
          stats = await this.#admin.warm(signal);
        } finally {
          this.#timings.warmEndedAt = new Date().toISOString();
          this.#timings.warmMs = Date.now() - startedAt;
        }
        this.#pool = stats;
        metrics.warmSeconds.observe(this.#timings.warmMs / 1000);
        this.#setPhase('verifying');
        stats = await this.#admin.getPool(signal);
        this.#pool = stats;
        // A degraded pool (the server refused more connections) is as full as the server allows.
        if (stats.total !== stats.target && !(stats.degraded && stats.total > 0)) {
          return this.#fail('verify', `GET /pool after the warm-up reports ${stats.total}/${stats.target} connections`);
        }
      } catch (err) {
        if (signal.aborted) return false;
        if (err instanceof AdminError && err.stats) this.#pool = err.stats;
        return this.#fail(adminErrorKind(err), errorMessage(err));
      } finally {
        this.#slot = null;
        await lease.release();
      }
    } else {
      this.#setPhase('verifying');
    }

    if (replay) {
      this.#setPhase('replaying');
      try {
        const result = await runReplay(this.#publicUrl, replay, {
          durationMs: settings.replayDurationMs,
          connections: settings.replayConnections,
          requestTimeoutMs: settings.requestTimeoutMs,
          signal,
        });
        this.#timings.replayMs = Math.round(result.ms);
      } catch (err) {
        if (signal.aborted) return false;
        metrics.replayFailures.inc();
        return this.#fail('replay', `replay: ${errorMessage(err)}`);
      }
    }

    this.#lastError = null;
    this.#readyWarmedAt = this.#pool?.warmedAt ?? null;
    this.#timings.readyAt = new Date().toISOString();
    this.#setPhase('ready');
    this.#deps.log.info({ target: this.id, timings: this.#timings, pool: this.#pool }, 'target ready');
    return true;
  }

  /**
   * A fleet slot, and room on the server for this pool. The pod arithmetic of a rollout does not
   * bound the connections (pods that terminate still hold their pools while they drain, and the
   * Deployment controller no longer counts them), so the warmer looks at the server's own count
   * before it opens a pool. Without room it gives the slot back while it waits: a holder that waited
   * would count against every other holder's check (otherHolders), so two waiting holders could each
   * wait for the other until the timeout, and it would keep a slot from a warm-up that may fit.
   * maxUnavailable 0 keeps the old pod serving meanwhile: the rollout paces itself to the rate old
   * pods release their connections. After WARM_ROOM_TIMEOUT_MS it warms anyway (a pool the server
   * cannot fully give serves degraded and fills up later) and says so.
   */
  async #slotWithRoom(signal: AbortSignal, stats: PoolStats): Promise<SlotLease | undefined> {
    const { slots, metrics, settings, log } = this.#deps;
    const need = Math.max(0, stats.target - stats.total);
    let waitingSince: number | undefined;
    this.#timings.roomWaitMs = null;
    for (let attempt = 0; ; attempt++) {
      // Once it waits for room, it stays in that phase (and keeps that reason) while it re-takes a slot.
      if (waitingSince === undefined) this.#setPhase('waiting-for-slot');
      const lease = await slots.acquire(signal, (reason, kind) => {
        if (kind === 'database') this.#fail('slot-database', reason);
        else if (waitingSince === undefined) this.#lastError = reason;
      });
      if (!lease) return undefined;
      this.#slot = lease.index;
      // The slot wait of the lease it warms with: the re-takes of a room wait are not slot waits.
      const warmWith = (): SlotLease => {
        this.#timings.slotWaitMs = Math.round(lease.waitMs);
        metrics.slotWaitSeconds.observe(lease.waitMs / 1000);
        return lease;
      };
      if (settings.roomTimeoutMs === 0) return warmWith();

      const room = await this.#checkRoom(lease, need, waitingSince);
      if (signal.aborted) {
        this.#slot = null;
        await lease.release();
        return undefined;
      }
      const waitedMs = waitingSince === undefined ? 0 : Date.now() - waitingSince;
      if (room.verdict === 'room' || waitedMs >= settings.roomTimeoutMs) {
        if (waitingSince !== undefined) {
          this.#timings.roomWaitMs = waitedMs;
          metrics.roomWaitSeconds.observe(waitedMs / 1000);
          if (room.verdict === 'room') {
            this.#lastError = null;
            log.info({ target: this.id, waitedMs, room }, 'room on the server: warming');
          } else {
            this.#lastError = `no room on the server after ${waitedMs} ms (WARM_ROOM_TIMEOUT_MS): warmed anyway`;
            this.#room = { ...room, verdict: 'timeout' };
            metrics.roomTimeouts.inc();
            log.warn(
              { target: this.id, waitedMs, room: this.#room },
              'no room on the server after WARM_ROOM_TIMEOUT_MS: warming anyway (the pool serves with what it gets)',
            );
          }
        }
        return warmWith();
      }

      this.#slot = null;
      await lease.release();
      if (waitingSince === undefined) {
        waitingSince = Date.now();
        this.#room = { ...room, waitingSince: new Date(waitingSince).toISOString() };
        log.info({ target: this.id, room: this.#room }, 'waiting for room on the server');
      }
      this.#setPhase('waiting-for-room');
      this.#lastError =
        room.error ??
        `no room on the server: ${room.free} connections free, this pool needs ${need}` +
          ` (max_connections ${room.maxConnections} - reserved ${room.reserved} - connected ${room.threadsConnected}` +
          ` - ${room.otherHolders} other warm-ups x ${need})`;
      const leftMs = settings.roomTimeoutMs - (Date.now() - waitingSince);
      if (!(await sleep(Math.max(0, Math.min(backoffMs(attempt, settings.roomBackoff), leftMs)), signal))) {
        return undefined;
      }
    }
  }

  async #checkRoom(lease: SlotLease, need: number, waitingSince: number | undefined): Promise<RoomStatus> {
    const reserved = this.#deps.settings.reservedConnections;
    const base = {
      need,
      reserved,
      checkedAt: new Date().toISOString(),
      waitingSince: waitingSince === undefined ? null : new Date(waitingSince).toISOString(),
    };
    let room: RoomStatus;
    try {
      const r = await lease.room();
      const free = r.maxConnections - reserved - r.threadsConnected - r.otherHolders * need;
      // A pool with nothing left to open fits whatever the count.
      room = { ...base, ...r, free, verdict: need === 0 || free >= need ? 'room' : 'waiting', error: null };
    } catch (err) {
      // Unknown is not room: retried like no room, and bounded by the same timeout.
      countError(this.#deps.metrics, 'room-check');
      const error = `reading the server's connection count: ${errorMessage(err)}`;
      room = {
        ...base,
        free: 0,
        maxConnections: null,
        threadsConnected: null,
        otherHolders: null,
        verdict: 'waiting',
        error,
      };
    }
    this.#room = room;
    return room;
  }

  async #waitForAdmin(signal: AbortSignal): Promise<PoolStats | undefined> {
    for (let attempt = 0; !signal.aborted; attempt++) {
      try {
        const stats = await this.#admin.getPool(signal);
        this.#pool = stats;
        this.#reachedAdmin = true;
        return stats;
      } catch (err) {
        if (signal.aborted) break;
        const kind = adminErrorKind(err);
        // The API starts beside the warmer (a sidecar, or Compose/dev starting both): an admin port
        // that has never answered is normal until the warm timeout has passed, not a warning.
        const starting =
          !this.#reachedAdmin &&
          kind === 'admin-unreachable' &&
          Date.now() - this.#createdAt < this.#deps.settings.warmTimeoutMs;
        this.#fail(kind, errorMessage(err), starting ? 'info' : 'warn');
      }
      if (!(await sleep(backoffMs(attempt, this.#deps.settings.backoff), signal))) break;
    }
    return undefined;
  }

  /** Watches a ready target; returns when it is no longer ready (or on stop). */
  async #watch(signal: AbortSignal): Promise<void> {
    const { watchIntervalMs, watchFailureLimit } = this.#deps.settings;
    let failures = 0;
    while (await sleep(watchIntervalMs, signal)) {
      try {
        const stats = await this.#admin.getPool(signal);
        this.#pool = stats;
        failures = 0;
        if (!stats.warm) {
          this.#fail('restart', 'GET /pool reports warm:false (API restarted or pool lost)');
          return;
        }
        if (stats.warmedAt !== this.#readyWarmedAt) {
          // A replay proves the hot path of a process: a new process (or warm-up) needs its own.
          this.#fail(
            'restart',
            `GET /pool reports warmedAt ${stats.warmedAt}, not ${this.#readyWarmedAt} (API restarted)`,
          );
          return;
        }
      } catch (err) {
        if (signal.aborted) return;
        const refused = err instanceof AdminError && err.kind === 'refused';
        if (refused || ++failures >= watchFailureLimit) {
          this.#fail(adminErrorKind(err), errorMessage(err));
          return;
        }
      }
    }
  }

  #setPhase(phase: Phase): void {
    if (phase === this.#phase) return;
    this.#deps.log.debug({ target: this.id, from: this.#phase, to: phase }, 'phase');
    this.#phase = phase;
  }

  /**
   * Records why the target is not ready; logs only when the reason (or its level) changes, so
   * retries stay quiet.
   */
  #fail(kind: ErrorKind, message: string, level: 'info' | 'warn' = 'warn'): false {
    countError(this.#deps.metrics, kind);
    if (this.#phase === 'ready') this.#setPhase('waiting-for-admin');
    if (message !== this.#lastError || level !== this.#lastLevel) {
      this.#deps.log[level]({ target: this.id, phase: this.#phase, kind, err: message }, 'target not ready');
    }
    this.#lastError = message;
    this.#lastLevel = level;
    return false;
  }
}

function adminErrorKind(err: unknown): ErrorKind {
  if (!(err instanceof AdminError)) return 'admin-unreachable';
  switch (err.kind) {
    case 'refused':
    case 'failed':
      return 'admin-unreachable';
    case 'protocol':
      return 'admin-protocol';
    case 'warm-failed':
      return 'warm-failed';
  }
}
