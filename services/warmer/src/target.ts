// One target API and its state machine:
// waiting-for-admin -> waiting-for-slot -> warming -> verifying -> replaying -> ready -> (watch),
// and back to the start when its /pool says warm:false, reports a warmedAt other than the one this
// target was made ready with (restarted and warmed on boot between two polls), or its admin port
// disappears.
import type { Logger } from 'pino';
import { AdminClient, AdminError, type PoolStats } from './admin-client.js';
import { backoffMs, errorMessage, sleep, type BackoffOptions } from './backoff.js';
import { countError, type ErrorKind, type WarmerMetrics } from './metrics.js';
import type { Phase } from './phases.js';
import { runReplay, type ReplaySpec } from './replay.js';
import type { FleetSlots } from './slots.js';

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
  attempts: number;
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
  #attempts = 0;
  /** Whether the admin port ever answered; before that, a refused port is the API still starting. */
  #reachedAdmin = false;
  readonly #createdAt = Date.now();
  #lastLevel: 'info' | 'warn' = 'warn';
  /** `warmedAt` of the pool this target was made ready with; another one means a new process or warm-up. */
  #readyWarmedAt: string | null = null;
  #timings: TargetTimings = {
    slotWaitMs: null,
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
    const { slots, metrics, settings, replay } = this.#deps;
    this.#setPhase('waiting-for-admin');
    let stats = await this.#waitForAdmin(signal);
    if (!stats) return false;

    // A pool that is already full (the API warmed on boot, or this warmer restarted) needs no slot.
    if (!(stats.warm && stats.total >= stats.target)) {
      this.#setPhase('waiting-for-slot');
      const lease = await slots.acquire(signal, (reason, kind) => {
        if (kind === 'database') this.#fail('slot-database', reason);
        else this.#lastError = reason;
      });
      if (!lease) return false;
      this.#slot = lease.index;
      this.#timings.slotWaitMs = Math.round(lease.waitMs);
      metrics.slotWaitSeconds.observe(lease.waitMs / 1000);
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
        if (stats.total !== stats.target) {
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
