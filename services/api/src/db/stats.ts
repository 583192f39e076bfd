// What the pool reports (GET /pool, /metrics, logs): live counts by connection state plus the
// counters it keeps over its life.
import type { PoolStats } from '@mokakbab/contracts';
import type { PoolUnavailableCode } from './errors.js';

export type { PoolStats };

/** The live part of PoolStats, read from the pool at the moment of the snapshot. */
export type LiveCounts = Pick<PoolStats, 'target' | 'total' | 'idle' | 'busy' | 'connecting' | 'queued' | 'degraded'>;

/** Why an acquire was refused (db_pool_rejections_total{reason}). */
export type RejectionReason = 'queue_full' | 'acquire_timeout' | 'database_down' | 'overload' | 'shutting_down';

const REASON_OF_CODE = {
  QUEUE_FULL: 'queue_full',
  ACQUIRE_TIMEOUT: 'acquire_timeout',
  DATABASE_DOWN: 'database_down',
  POOL_CLOSED: 'shutting_down',
} as const satisfies Record<PoolUnavailableCode, RejectionReason>;

/** The pool's counters over its life; `snapshot` joins them with the live counts. */
export class PoolCounters {
  maxConnecting = 0;
  recycled = 0;
  replaced = 0;
  /** Connections ever opened; the pool only opens to reach its size, so each beyond it replaced one. */
  opened = 0;
  warmedAt: string | null = null;
  lastWarmMs: number | null = null;
  lastError: PoolStats['lastError'] = null;
  readonly connectErrors: Record<string, number> = {};
  readonly rejections: Record<RejectionReason, number> = {
    queue_full: 0,
    acquire_timeout: 0,
    database_down: 0,
    overload: 0,
    shutting_down: 0,
  };

  rejected(code: PoolUnavailableCode): void {
    this.rejections[REASON_OF_CODE[code]]++;
  }

  connecting(inFlight: number): void {
    if (inFlight > this.maxConnecting) this.maxConnecting = inFlight;
  }

  connected(size: number): void {
    if (++this.opened > size) this.replaced++;
  }

  connectFailed(code: string, message: string): void {
    this.connectErrors[code] = (this.connectErrors[code] ?? 0) + 1;
    this.lastError = { code, message, at: new Date().toISOString() };
  }

  warmed(durationMs: number): void {
    this.warmedAt = new Date().toISOString();
    this.lastWarmMs = Math.round(durationMs);
  }

  snapshot(live: LiveCounts): PoolStats {
    return {
      ...live,
      warm: this.warmedAt !== null,
      warmedAt: this.warmedAt,
      maxConnecting: this.maxConnecting,
      recycled: this.recycled,
      replaced: this.replaced,
      connectErrors: { ...this.connectErrors },
      lastError: this.lastError && { ...this.lastError },
      lastWarmMs: this.lastWarmMs,
    };
  }
}

/** HikariCP's summary form, for error messages and log lines: `total=4, active=4, idle=0, waiting=12`. */
export function describeCounts(live: LiveCounts): string {
  return `total=${live.total}, active=${live.busy}, idle=${live.idle}, waiting=${live.queued}`;
}
