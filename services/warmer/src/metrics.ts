// The warmer's Prometheus metrics, on a registry of its own (no global state shared with a host app).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { PHASES, type Phase } from './phases.js';

export type ErrorKind =
  | 'admin-unreachable'
  | 'admin-protocol'
  | 'warm-failed'
  | 'verify'
  | 'slot-database'
  | 'room-check'
  | 'replay'
  | 'discovery'
  | 'restart';

export interface WarmerMetrics {
  readonly registry: Registry;
  readonly warmSeconds: Histogram;
  readonly slotWaitSeconds: Histogram;
  readonly roomWaitSeconds: Histogram;
  readonly roomTimeouts: Counter;
  readonly replayFailures: Counter;
  readonly errors: Counter<'kind'>;
}

/** `snapshot` is read at scrape time, so the phase gauges never drift from the targets' state. */
export function createMetrics(snapshot: () => { phases: readonly Phase[]; ready: boolean }): WarmerMetrics {
  const registry = new Registry();
  // prom-client's default names already start with process_ / nodejs_: the prefix only says whose.
  collectDefaultMetrics({ register: registry, prefix: 'warmer_' });
  new Gauge({
    name: 'warmer_targets',
    help: 'Known target APIs by phase.',
    labelNames: ['phase'],
    registers: [registry],
    collect() {
      const counts = new Map<Phase, number>(PHASES.map((p) => [p, 0]));
      for (const phase of snapshot().phases) counts.set(phase, (counts.get(phase) ?? 0) + 1);
      for (const [phase, n] of counts) this.set({ phase }, n);
    },
  });
  new Gauge({
    name: 'warmer_ready',
    help: '1 when every known target is warm (and replayed), else 0.',
    registers: [registry],
    collect() {
      this.set(snapshot().ready ? 1 : 0);
    },
  });
  return {
    registry,
    warmSeconds: new Histogram({
      name: 'warmer_warm_duration_seconds',
      help: 'Duration of POST /pool/warm, from request to full pool.',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
      registers: [registry],
    }),
    slotWaitSeconds: new Histogram({
      name: 'warmer_slot_wait_seconds',
      help: 'Time a target waited for a fleet warm slot.',
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120],
      registers: [registry],
    }),
    roomWaitSeconds: new Histogram({
      name: 'warmer_room_wait_seconds',
      help: 'Time a warm-up waited for room on the server (only warm-ups that had to wait).',
      buckets: [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300],
      registers: [registry],
    }),
    roomTimeouts: new Counter({
      name: 'warmer_room_timeouts_total',
      help: 'Warm-ups that found no room within WARM_ROOM_TIMEOUT_MS and warmed anyway.',
      registers: [registry],
    }),
    replayFailures: new Counter({
      name: 'warmer_replay_failures_total',
      help: 'Warm-up replays that failed (unexpected status or request error).',
      registers: [registry],
    }),
    errors: new Counter({
      name: 'warmer_errors_total',
      help: 'Errors by kind.',
      labelNames: ['kind'],
      registers: [registry],
    }),
  };
}

export function countError(metrics: WarmerMetrics, kind: ErrorKind): void {
  metrics.errors.inc({ kind });
}
