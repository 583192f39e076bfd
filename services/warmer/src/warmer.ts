// The warmer: its targets (one in sidecar mode, one per resolved address in fleet mode), the shared
// fleet slots, and the readiness that gates the pod or the Compose service.
import type { Logger } from 'pino';
import { redactUrl, type WarmerConfig } from '@mokakbab/config';
import { errorMessage, sleep } from './backoff.js';
import { resolveFleet, sidecarTarget, type TargetAddress } from './discovery.js';
import { countError, createMetrics, type WarmerMetrics } from './metrics.js';
import type { ReplaySpec } from './replay.js';
import { FleetSlots, type SlotsStatus } from './slots.js';
import { Target, type TargetSettings, type TargetStatus } from './target.js';

const DEFAULT_SETTINGS = {
  requestTimeoutMs: 2_000,
  backoff: { initialMs: 100, maxMs: 2_000 },
  watchFailureLimit: 3,
  // Room comes back as old pods finish draining (seconds): a ceiling of 2 s notices it soon enough.
  roomBackoff: { initialMs: 250, maxMs: 2_000 },
} as const;

/**
 * Longest the warmer's shutdown may take before the process exits anyway (code 1); a pod's grace
 * period counts it after the API's drain, because the sidecar stops after the API.
 */
export const SHUTDOWN_HARD_LIMIT_MS = 10_000;

export interface Readiness {
  ready: boolean;
  targets: number;
  reasons: { id: string; phase: string; lastError: string | null }[];
}

export interface WarmerStatus {
  mode: WarmerConfig['mode'];
  ready: boolean;
  targets: TargetStatus[];
  slots: SlotsStatus;
  discovery: { host: string | null; lastError: string | null; resolvedAt: string | null };
}

export class Warmer {
  readonly metrics: WarmerMetrics;
  readonly #config: WarmerConfig;
  readonly #log: Logger;
  readonly #replay: ReplaySpec | undefined;
  readonly #slots: FleetSlots;
  readonly #targets = new Map<string, Target>();
  readonly #abort = new AbortController();
  #discoveryLoop: Promise<void> | undefined;
  #discoveryError: string | null = null;
  #resolvedAt: string | null = null;

  constructor(config: WarmerConfig, opts: { log: Logger; replay: ReplaySpec | undefined }) {
    this.#config = config;
    this.#log = opts.log;
    this.#replay = opts.replay;
    this.#slots = new FleetSlots({
      databaseUrl: config.databaseUrl,
      databaseCa: config.databaseCa,
      slots: config.warmSlots,
      prefix: config.slotPrefix,
      warmTimeoutMs: config.warmTimeoutMs,
    });
    this.metrics = createMetrics(() => ({
      phases: [...this.#targets.values()].map((t) => t.phase),
      ready: this.readiness().ready,
    }));
  }

  start(): void {
    const c = this.#config;
    this.#log.info(
      { mode: c.mode, warmSlots: c.warmSlots, slotPrefix: c.slotPrefix, database: redactUrl(c.databaseUrl) },
      'warmer starting',
    );
    if (c.mode === 'sidecar') {
      // loadWarmerConfig guarantees both URLs in sidecar mode.
      this.#reconcile([sidecarTarget(c.target as URL, c.targetPublic as URL)]);
    } else {
      this.#discoveryLoop = this.#discover();
    }
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#discoveryLoop;
    await Promise.all([...this.#targets.values()].map((t) => t.stop()));
    this.#targets.clear();
    await this.#slots.close();
  }

  readiness(): Readiness {
    const reasons: Readiness['reasons'] = [];
    for (const t of this.#targets.values()) {
      if (!t.ready) reasons.push({ id: t.id, phase: t.phase, lastError: t.status().lastError });
    }
    // Fleet mode: a replica that crashed before its first lookup is no address at all, so "every known
    // target ready" alone would pass without it.
    const minTargets = this.#config.mode === 'fleet' ? this.#config.fleetMinTargets : 1;
    if (this.#targets.size < minTargets) {
      const found =
        this.#targets.size === 0
          ? 'no target found yet'
          : `${this.#targets.size} of at least ${minTargets} replicas found (WARMER_FLEET_MIN_TARGETS)`;
      reasons.push({ id: 'discovery', phase: 'resolving', lastError: this.#discoveryError ?? found });
    }
    return { ready: reasons.length === 0, targets: this.#targets.size, reasons };
  }

  status(): WarmerStatus {
    return {
      mode: this.#config.mode,
      ready: this.readiness().ready,
      targets: [...this.#targets.values()].map((t) => t.status()),
      slots: this.#slots.status(),
      discovery: {
        host: this.#config.fleetHost ?? null,
        lastError: this.#discoveryError,
        resolvedAt: this.#resolvedAt,
      },
    };
  }

  async #discover(): Promise<void> {
    const c = this.#config;
    const signal = this.#abort.signal;
    do {
      try {
        const found = await resolveFleet({
          host: c.fleetHost as string,
          adminPort: c.fleetAdminPort,
          publicPort: c.fleetPublicPort,
          dnsServer: c.dnsServer,
        });
        this.#discoveryError = null;
        this.#resolvedAt = new Date().toISOString();
        if (!signal.aborted) this.#reconcile(found);
      } catch (err) {
        // A failed lookup keeps the known targets: a DNS blip must not pull every replica out.
        const message = `resolving ${c.fleetHost}: ${errorMessage(err)}`;
        if (message !== this.#discoveryError) this.#log.warn({ err: message }, 'discovery failed');
        this.#discoveryError = message;
        countError(this.metrics, 'discovery');
      }
    } while (await sleep(c.resolveIntervalMs, signal));
  }

  #reconcile(found: TargetAddress[]): void {
    const ids = new Set(found.map((a) => a.id));
    for (const [id, target] of this.#targets) {
      if (ids.has(id)) continue;
      this.#targets.delete(id);
      this.#log.info({ target: id }, 'target removed');
      void target.stop();
    }
    for (const a of found) {
      if (this.#targets.has(a.id)) continue;
      const target = new Target(a.id, a.adminUrl, a.publicUrl, {
        slots: this.#slots,
        metrics: this.metrics,
        log: this.#log,
        replay: this.#replay,
        settings: this.#settings(),
      });
      this.#targets.set(a.id, target);
      this.#log.info({ target: a.id, adminUrl: a.adminUrl.href, publicUrl: a.publicUrl.href }, 'target added');
      target.start();
    }
  }

  #settings(): TargetSettings {
    const c = this.#config;
    return {
      ...DEFAULT_SETTINGS,
      watchIntervalMs: c.watchIntervalMs,
      warmTimeoutMs: c.warmTimeoutMs,
      replayDurationMs: c.replayDurationMs,
      replayConnections: c.replayConnections,
      roomTimeoutMs: c.roomTimeoutMs,
      reservedConnections: c.reserved,
    };
  }
}
