// Prometheus metrics on a registry of this app instance (not prom-client's global one, so several
// apps in one process, as in tests, do not collide): pool state read from stats() at scrape time,
// acquire waits and statement durations observed by the pool, rejections by reason, warm-up
// duration, JWT cache, HTTP durations by route, and the default process metrics.
import type { onResponseHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { REPLICA_STATES, type ReplicaRouter, type ReplicaStats } from '../../db/replicas.js';

/** Why a request was turned away before routing (http_requests_rejected_total{reason}). */
export type HttpRejectionReason = 'overload' | 'event_loop' | 'shutting_down' | 'rate_limited' | 'hashing_busy';

export interface AppMetrics {
  registry: Registry;
  warmDuration: Histogram;
  /** Counts one request shed before routing. */
  rejected(reason: HttpRejectionReason): void;
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: AppMetrics;
  }
}

const HTTP_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const WARM_BUCKETS_S = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const DB_BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const HTTP_REJECTION_REASONS: readonly HttpRejectionReason[] = [
  'overload',
  'event_loop',
  'shutting_down',
  'rate_limited',
  'hashing_busy',
];
const UNMATCHED_ROUTE = 'unmatched';

/** Every replica pool by `server` (host:port): its connections, lag, state and reads. Only with replicas. */
function registerReplicaMetrics(registry: Registry, router: ReplicaRouter): void {
  const perServer = (name: string, help: string, read: (r: ReplicaStats) => number | null) =>
    new Gauge({
      name,
      help,
      labelNames: ['server'],
      registers: [registry],
      collect() {
        this.reset();
        for (const r of router.stats()) {
          const value = read(r);
          if (value !== null) this.set({ server: r.server }, value);
        }
      },
    });
  perServer('db_replica_pool_target_connections', 'Connections the replica pool keeps open.', (r) => r.target);
  perServer('db_replica_pool_total_connections', 'Replica connections open now.', (r) => r.total);
  perServer('db_replica_pool_busy_connections', 'Replica connections in use.', (r) => r.busy);
  perServer('db_replica_pool_warm', '1 once the replica pool was warmed.', (r) => (r.warm ? 1 : 0));
  perServer('db_replica_lag_seconds', 'Lag behind the primary at the last probe (absent while down).', (r) =>
    r.lagMs === null ? null : r.lagMs / 1000,
  );
  new Gauge({
    name: 'db_replica_state',
    help: '1 for the state each replica is in (serving is in the read rotation).',
    labelNames: ['server', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const r of router.stats()) {
        for (const state of REPLICA_STATES) this.set({ server: r.server, state }, r.state === state ? 1 : 0);
      }
    },
  });
  new Counter({
    name: 'db_reads_total',
    help: 'Routed reads by the server that answered: a replica, or the primary (pinned: a write request or read-your-writes; fallback: no replica could).',
    labelNames: ['server'],
    registers: [registry],
    collect() {
      this.reset();
      for (const r of router.stats()) this.inc({ server: r.server }, r.reads);
      this.inc({ server: 'primary:pinned' }, router.primaryPinned);
      this.inc({ server: 'primary:fallback' }, router.primaryFallbacks);
    },
  });
}

export default fp(
  async function metricsPlugin(fastify) {
    const { db, replicas, tokenVerifier } = fastify;
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });

    const poolGauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers: [registry],
        collect() {
          this.set(read());
        },
      });
    poolGauge(
      'db_pool_target_connections',
      'Connections the pool keeps open (its fixed size).',
      () => db.stats().target,
    );
    poolGauge('db_pool_total_connections', 'Connections open now.', () => db.stats().total);
    poolGauge('db_pool_idle_connections', 'Open connections not in use.', () => db.stats().idle);
    poolGauge('db_pool_busy_connections', 'Connections in use.', () => db.stats().busy);
    poolGauge('db_pool_connecting', 'Handshakes in flight.', () => db.stats().connecting);
    poolGauge('db_pool_queued_acquires', 'Requests waiting for a connection.', () => db.stats().queued);
    poolGauge('db_pool_warm', '1 once a full warm-up succeeded.', () => (db.stats().warm ? 1 : 0));
    poolGauge(
      'db_pool_degraded',
      '1 while the pool is below target because the server refused more connections.',
      () => (db.stats().degraded ? 1 : 0),
    );
    poolGauge('db_pool_max_connecting', 'Most handshakes ever in flight at once.', () => db.stats().maxConnecting);

    // Monotonic totals kept by the pool: exposed as counters whose value is copied at scrape time.
    const copyCounter = (name: string, help: string, read: () => number) =>
      new Counter({
        name,
        help,
        registers: [registry],
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    copyCounter('db_pool_recycled_total', 'Connections retired for lifetime.', () => db.stats().recycled);
    copyCounter(
      'db_pool_replaced_total',
      'Connections opened to replace lost or retired ones.',
      () => db.stats().replaced,
    );
    copyCounter(
      'jwt_cache_hits_total',
      'Access tokens served from the verification cache.',
      () => tokenVerifier.stats().hits,
    );
    copyCounter(
      'jwt_cache_misses_total',
      'Access tokens verified cryptographically.',
      () => tokenVerifier.stats().misses,
    );
    new Counter({
      name: 'db_pool_connect_errors_total',
      help: 'Failed connection attempts, by error code.',
      labelNames: ['code'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [code, count] of Object.entries(db.stats().connectErrors)) this.inc({ code }, count);
      },
    });
    new Counter({
      name: 'db_pool_rejections_total',
      help: 'Acquires refused without a connection, by reason.',
      labelNames: ['reason'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [reason, count] of Object.entries(db.rejections())) this.inc({ reason }, count);
      },
    });
    poolGauge('db_statements_in_flight', 'Statements and transactions running now.', () => db.statementsInFlight);
    poolGauge(
      'db_pool_write_connections',
      'Writes and transactions holding (or being handed) a connection now; at most db_pool_write_limit.',
      () => db.writers().inUse,
    );
    poolGauge(
      'db_pool_write_limit',
      'Most connections writes may hold: the pool less the read reserve (DB_READ_RESERVE_PERCENT).',
      () => db.writers().limit,
    );
    poolGauge('db_pool_queued_writes', "Writes waiting for a writer's connection.", () => db.writers().queued);

    // Observed by the pool on the hot path: unlabelled or with children made once, no label objects.
    const acquireWait = new Histogram({
      name: 'db_pool_acquire_wait_seconds',
      help: 'Time an acquire waited for a connection, including acquires that were refused.',
      buckets: DB_BUCKETS_S,
      registers: [registry],
    });
    db.observe({ acquireWait: (seconds) => acquireWait.observe(seconds) });
    const statementDuration = new Histogram({
      name: 'db_statement_duration_seconds',
      help: 'Duration of statements (read, write) and whole transactions, from the connection in hand to the answer.',
      labelNames: ['kind'],
      buckets: DB_BUCKETS_S,
      registers: [registry],
    });
    const byKind = {
      read: statementDuration.labels({ kind: 'read' }),
      write: statementDuration.labels({ kind: 'write' }),
      transaction: statementDuration.labels({ kind: 'transaction' }),
    };
    db.observeStatements({ statement: (kind, seconds) => byKind[kind].observe(seconds) });

    const httpRejected = new Counter({
      name: 'http_requests_rejected_total',
      help: 'Requests turned away before routing, by reason.',
      labelNames: ['reason'],
      registers: [registry],
    });
    const rejectedChildren = new Map(HTTP_REJECTION_REASONS.map((reason) => [reason, httpRejected.labels({ reason })]));

    new Gauge({
      name: 'jwt_cache_size',
      help: 'Verified access tokens held in the cache.',
      registers: [registry],
      collect() {
        this.set(tokenVerifier.stats().size);
      },
    });

    const warmDuration = new Histogram({
      name: 'db_pool_warm_duration_seconds',
      help: 'Duration of completed pool warm-ups.',
      buckets: WARM_BUCKETS_S,
      registers: [registry],
    });

    const httpDuration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by route pattern and status.',
      labelNames: ['method', 'route', 'status_code'],
      buckets: HTTP_BUCKETS_S,
      registers: [registry],
    });
    // One child per (route, method, status), looked up in Maps: no labels object and no prom-client
    // label hashing per request. Each route gets its own hook from onRoute, so the route pattern is
    // known without request.routeOptions (a getter that builds an object per call).
    type Children = Map<string, Map<number, Histogram.Internal<string>>>;
    const observe = (children: Children, route: string, method: string, statusCode: number, seconds: number) => {
      let byStatus = children.get(method);
      if (byStatus === undefined) children.set(method, (byStatus = new Map<number, Histogram.Internal<string>>()));
      let child = byStatus.get(statusCode);
      if (child === undefined) {
        child = httpDuration.labels({ method, route, status_code: statusCode });
        byStatus.set(statusCode, child);
      }
      child.observe(seconds);
    };
    fastify.addHook('onRoute', (routeOptions) => {
      const route = routeOptions.url;
      const children: Children = new Map();
      const hook: onResponseHookHandler = (request, reply, done) => {
        observe(children, route, request.method, reply.statusCode, reply.elapsedTime / 1000);
        done();
      };
      const existing = routeOptions.onResponse;
      routeOptions.onResponse =
        existing === undefined ? [hook] : [...(Array.isArray(existing) ? existing : [existing]), hook];
    });
    // Requests no route matched run only the root hooks.
    const unmatched: Children = new Map();
    fastify.addHook('onResponse', (request, reply, done) => {
      if (request.is404)
        observe(unmatched, UNMATCHED_ROUTE, request.method, reply.statusCode, reply.elapsedTime / 1000);
      done();
    });

    if (replicas) registerReplicaMetrics(registry, replicas);

    fastify.decorate('metrics', {
      registry,
      warmDuration,
      rejected: (reason: HttpRejectionReason) => rejectedChildren.get(reason)!.inc(),
    });
  },
  { name: 'metrics', dependencies: ['db', 'replicas', 'auth'] },
);
