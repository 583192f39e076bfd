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
import { StartupError } from './errors.js';

// The server is starting, restarting, full or not resolvable yet: worth another try.
const RETRYABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'PROTOCOL_CONNECTION_LOST',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
]);

const BACKOFF_BASE_MS = 100;
const BACKOFF_CAP_MS = 2_000;

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'UNKNOWN';
}

/** Retries unreachable-server errors with capped, jittered backoff until `deadlineMs` has passed. */
export async function readLimitsWithRetry(config: ApiConfig, log: FastifyBaseLogger): Promise<ServerLimits> {
  const deadline = Date.now() + config.warmTimeoutMs;
  const where = redactUrl(config.databaseUrl);
  for (let attempt = 0; ; attempt++) {
    try {
      return await readServerLimits(config.databaseUrl, config.connectTimeoutMs, config.databaseCa);
    } catch (err) {
      const code = codeOf(err);
      const message = (err as Error).message;
      if (!RETRYABLE_CODES.has(code)) {
        throw new StartupError(`Cannot read the limits of ${where}: ${code} ${message}`, { cause: err });
      }
      const remainingMs = deadline - Date.now();
      if (remainingMs <= 0) {
        throw new StartupError(
          `The database ${where} is unreachable (${code}: ${message}); gave up after DB_WARM_TIMEOUT_MS=${config.warmTimeoutMs} ms`,
          { cause: err },
        );
      }
      const delayMs = Math.min(remainingMs, Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt));
      log.warn({ code, attempt, delayMs: Math.round(delayMs) }, 'database not reachable yet, retrying');
      await sleep(delayMs);
    }
  }
}

/** The pool size for this server; throws a StartupError with the numbers when DB_PLAN_CHECK=refuse. */
export function decidePoolSize(config: ApiConfig, limits: ServerLimits, log: FastifyBaseLogger): ApiPoolDecision {
  let decision: ApiPoolDecision;
  try {
    decision = planApiPool(config, limits);
  } catch (err) {
    if (err instanceof PlanError) throw new StartupError(`Pool plan impossible: ${err.message}`, { cause: err });
    throw err;
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
  return decision;
}
