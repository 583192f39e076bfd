// At start: read the server's limits (retrying while it is not reachable yet), decide the pool size
// from the plan, and refuse or warn when the plan or the lifetime does not fit that server.
import { setTimeout as sleep } from 'node:timers/promises';
import {
  PlanError,
  planApiPool,
  readServerLimits,
  redactUrl,
  type ApiConfig,
  type ApiPoolDecision,
  type ServerLimits,
} from '@mokakbab/config';
import type { FastifyBaseLogger } from 'fastify';
import { StartupError } from '../errors.js';
import { PROBE_BACKOFF, fullJitterDelayMs } from './backoff.js';
import { errorCode, isTransientConnectError } from './errors.js';

/** Retries unreachable-server errors with capped, jittered backoff until `deadlineMs` has passed. */
export async function readLimitsWithRetry(config: ApiConfig, log: FastifyBaseLogger): Promise<ServerLimits> {
  const deadline = Date.now() + config.warmTimeoutMs;
  const where = redactUrl(config.databaseUrl);
  for (let attempt = 0; ; attempt++) {
    try {
      return await readServerLimits(config.databaseUrl, config.connectTimeoutMs, config.databaseCa);
    } catch (err) {
      const code = errorCode(err);
      const message = (err as Error).message;
      if (!isTransientConnectError(err)) {
        throw new StartupError(`Cannot read the limits of ${where}: ${code} ${message}`, { cause: err });
      }
      const remainingMs = deadline - Date.now();
      if (remainingMs <= 0) {
        throw new StartupError(
          `The database ${where} is unreachable (${code}: ${message}); gave up after DB_WARM_TIMEOUT_MS=${config.warmTimeoutMs} ms`,
          { cause: err },
        );
      }
      const delayMs = Math.min(remainingMs, fullJitterDelayMs(attempt, PROBE_BACKOFF.baseMs, PROBE_BACKOFF.capMs));
      log.warn({ code, attempt, delayMs: Math.round(delayMs) }, 'database not reachable yet, retrying');
      await sleep(delayMs);
    }
  }
}

/**
 * The pool size for this server; throws a StartupError with the numbers when DB_PLAN_CHECK=refuse.
 * With `warn`, whatever does not fit is logged and the API runs: with DB_POOL_SIZE, or with one
 * connection when no plan is possible (the pool then takes what the server gives, see `degraded`).
 */
export function decidePoolSize(
  config: ApiConfig,
  limits: ServerLimits,
  log: FastifyBaseLogger,
  role: 'primary' | 'replica' = 'primary',
): number {
  let decision: ApiPoolDecision;
  try {
    decision = planApiPool(config, limits, role);
  } catch (err) {
    if (!(err instanceof PlanError)) throw err;
    if (config.planCheck === 'refuse') throw new StartupError(`Pool plan impossible: ${err.message}`, { cause: err });
    const size = config.poolSize ?? 1;
    log.warn(
      { problems: [err.message], size, maxConnections: limits.maxConnections },
      'pool plan impossible (DB_PLAN_CHECK=warn): running with DB_POOL_SIZE or 1',
    );
    return size;
  }
  const { plan } = decision;
  log.info(
    {
      size: decision.size,
      perInstance: plan.perInstance,
      fleetPeak: plan.fleetPeak,
      headroom: plan.headroom,
      peakInstances: plan.peakInstances,
      maxConnections: limits.maxConnections,
      waitTimeoutS: limits.waitTimeoutS,
      serverVersion: limits.version,
    },
    'pool plan',
  );
  for (const warning of decision.warnings) log.warn({ warning }, 'pool plan warning');
  if (decision.problems.length > 0) {
    const text = decision.problems.join('; ');
    if (config.planCheck === 'refuse') {
      throw new StartupError(`The pool does not fit the server (DB_PLAN_CHECK=refuse): ${text}`);
    }
    log.warn({ problems: decision.problems }, 'the pool does not fit the server (DB_PLAN_CHECK=warn)');
  }
  return decision.size;
}
