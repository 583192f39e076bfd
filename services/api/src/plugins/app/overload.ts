// Load shedding before any work: a root onRequest hook (before auth, body parsing and validation)
// answers 503 with Retry-After when the database is known to be down, when the pool's queue is
// full, or when the wait a new request can expect for a connection is past its deadline; and
// @fastify/under-pressure does the same while the event loop lags. Work that cannot finish in
// time costs the CPU that serves the requests that can (Netflix concurrency-limits, Envoy's
// overload manager and HikariCP all refuse at the door rather than time out inside).
// A request shed at the door (queue full, wait past the deadline) gets its 503 after SHED_DELAY_MS,
// holding only a timer (no connection, no queue slot, no body read yet), at most SHED_MAX_HELD at
// once: a closed-loop client that resends at once then costs one request per connection per delay,
// not the 15k refusals a second that took the CPU of the accepted requests (a tarpit).
// Every refusal is counted by reason; the log gets one summary line per interval, never one per
// request. Every request gets one deadline, REQUEST_TIMEOUT_MS from its arrival, over all its
// database work (db/deadline.ts).
import { AsyncResource } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import underPressure from '@fastify/under-pressure';
import { OVERLOAD_RETRY_AFTER_S } from '@mokakbab/config';
import fp from 'fastify-plugin';
import { Gauge } from 'prom-client';
import { operationDeadline } from '../../db/index.js';
import { HttpError, shuttingDown } from '../../errors.js';
import type { HttpRejectionReason } from './metrics.js';

// Liveness and readiness must answer whatever the load; neither touches the database.
const EXEMPT_PREFIX = '/health/';

declare module 'fastify' {
  interface FastifyRequest {
    /** The async context holding this request's database deadline. */
    deadlineScope: AsyncResource | null;
  }
}

const overloaded = (code = 'OVERLOADED') =>
  new HttpError(503, code, 'The server is overloaded; retry shortly.', {
    'retry-after': String(OVERLOAD_RETRY_AFTER_S),
  });

export default fp(
  async function overloadPlugin(fastify) {
    const { db, config, metrics, log, readiness } = fastify;
    const httpRejections: Partial<Record<HttpRejectionReason, number>> = {};
    const reject = (reason: HttpRejectionReason) => {
      httpRejections[reason] = (httpRejections[reason] ?? 0) + 1;
      metrics.rejected(reason);
    };

    if (config.maxEventLoopDelayMs > 0) {
      await fastify.register(underPressure, {
        maxEventLoopDelay: config.maxEventLoopDelayMs,
        exposeStatusRoute: false,
        // Only called while the loop lags. A rejected promise goes to the error handler as next(err).
        async pressureHandler(request) {
          if (request.url.startsWith(EXEMPT_PREFIX)) return;
          reject('event_loop');
          throw overloaded('EVENT_LOOP_OVERLOADED');
        },
      });
    }

    /** Shed requests waiting for their 503; each entry answers its request now. */
    const held = new Set<(err: Error) => void>();
    new Gauge({
      name: 'http_requests_held',
      help: 'Shed requests held before their 503 (SHED_DELAY_MS), counted in http_requests_rejected_total when shed.',
      registers: [metrics.registry],
      collect() {
        this.set(held.size);
      },
    });

    // The deadline store is entered here and re-entered before validation, as @fastify/request-context
    // does: with async_hooks-based AsyncLocalStorage (Node 22; Node 24 with --no-async-context-frame)
    // the body is read in the socket's async context, which does not carry it.
    fastify.decorateRequest('deadlineScope', null);
    fastify.addHook('onRequest', (request, _reply, done) => {
      operationDeadline.run(performance.now() + config.requestTimeoutMs, () => {
        request.deadlineScope = new AsyncResource('request-deadline');
        done();
      });
    });
    fastify.addHook('preValidation', (request, _reply, done) => {
      if (request.deadlineScope) request.deadlineScope.runInAsyncScope(done);
      else done();
    });

    fastify.addHook('onRequest', (request, _reply, done) => {
      if (request.url.startsWith(EXEMPT_PREFIX)) return done();
      // Closed or known down: the same 503 (and Retry-After) an acquire would get, without the work.
      const refusal = db.refusal();
      if (refusal) return done(refusal);
      if (db.overloaded()) {
        reject('overload');
        if (config.shedDelayMs === 0 || held.size >= config.shedMaxHeld) return done(overloaded());
        const answer = (err: Error) => {
          clearTimeout(timer);
          held.delete(answer);
          done(err);
        };
        const timer = setTimeout(() => answer(overloaded()), config.shedDelayMs);
        held.add(answer);
        return;
      }
      done();
    });
    // The drain must not wait on a held 503: answered at once when it begins (close() or SIGTERM's
    // drain), as SHUTTING_DOWN so the client retries on another instance.
    readiness.onDrain(() => {
      for (const answer of [...held]) answer(shuttingDown());
    });

    // One line per interval with what was turned away since the last one; silent when nothing was.
    let lastPool = { ...db.rejections() };
    const summary = setInterval(() => {
      const pool = db.rejections();
      const poolDelta: Record<string, number> = {};
      for (const [reason, count] of Object.entries(pool) as [keyof typeof pool, number][]) {
        if (count > lastPool[reason]) poolDelta[reason] = count - lastPool[reason];
      }
      lastPool = { ...pool };
      const http = { ...httpRejections };
      for (const reason of Object.keys(httpRejections) as HttpRejectionReason[]) delete httpRejections[reason];
      if (Object.keys(http).length === 0 && Object.keys(poolDelta).length === 0) return;
      const { total, target, busy, idle, queued } = db.stats();
      log.warn(
        { intervalMs: config.rejectionLogIntervalMs, http, pool: poolDelta, total, target, busy, idle, queued },
        'requests turned away',
      );
    }, config.rejectionLogIntervalMs).unref();
    fastify.addHook('onClose', (_instance, done) => {
      clearInterval(summary);
      done();
    });
  },
  { name: 'overload', dependencies: ['db', 'metrics', 'config', 'readiness'] },
);
