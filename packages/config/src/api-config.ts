import { ConfigError, readEnv, type Env } from './env.js';
import { NO_HEADROOM_WARNING, planPool, planReplicaServer, type PlanInput, type PoolPlan } from './pool-plan.js';
import type { ServerLimits } from './server-limits.js';
import { checkTiming } from './timing.js';
import {
  OVERLOAD_RETRY_AFTER_S,
  authVars,
  databaseVars,
  httpVars,
  mediaVars,
  planVars,
  poolVars,
  replicaVars,
} from './variables.js';

export const apiVars = {
  ...databaseVars,
  ...replicaVars,
  ...planVars,
  ...poolVars,
  ...httpVars,
  ...authVars,
  ...mediaVars,
};

export type ApiConfig = ReturnType<typeof readApiEnv>;

function readApiEnv(env: Env) {
  return readEnv(apiVars, env);
}

/** Reads and validates the API's configuration; throws a ConfigError naming every bad variable. */
export function loadApiConfig(env: Env = process.env): ApiConfig {
  const config = readApiEnv(env);
  const problems: string[] = [];
  if (config.jwtAlgorithm.startsWith('HS')) {
    if (!config.jwtSecret)
      problems.push(`JWT_SECRET is required for JWT_ALGORITHM=${config.jwtAlgorithm}: at least 32 characters.`);
  } else if (!config.jwtPublicKey || !config.jwtPrivateKey) {
    problems.push(`JWT_PUBLIC_KEY and JWT_PRIVATE_KEY (PEM) are required for JWT_ALGORITHM=${config.jwtAlgorithm}.`);
  }
  if (config.lifetimeJitterMs >= config.maxLifetimeMs) {
    problems.push(
      `DB_LIFETIME_JITTER_MS (${config.lifetimeJitterMs}) must be below DB_MAX_LIFETIME_MS (${config.maxLifetimeMs}).`,
    );
  }
  // The server-independent rules; the lifetime rule needs wait_timeout and is checked by planApiPool.
  for (const rule of checkTiming({
    waitTimeoutS: Number.POSITIVE_INFINITY,
    maxLifetimeMs: config.maxLifetimeMs,
    connectTimeoutMs: config.connectTimeoutMs,
    acquireTimeoutMs: config.acquireTimeoutMs,
    requestTimeoutMs: config.requestTimeoutMs,
    queryTimeoutMs: config.queryTimeoutMs,
  })) {
    problems.push(`DB_CONNECT_TIMEOUT_MS / DB_ACQUIRE_TIMEOUT_MS / DB_QUERY_TIMEOUT_MS / REQUEST_TIMEOUT_MS: ${rule}.`);
  }
  // A held 503 must arrive before the client's Retry-After pause would end, and before the request's deadline.
  if (config.shedDelayMs >= OVERLOAD_RETRY_AFTER_S * 1000 || config.shedDelayMs >= config.requestTimeoutMs) {
    problems.push(
      `SHED_DELAY_MS (${config.shedDelayMs}) must be below the overload Retry-After (${OVERLOAD_RETRY_AFTER_S * 1000} ms) and REQUEST_TIMEOUT_MS (${config.requestTimeoutMs}).`,
    );
  }
  if ((config.s3Endpoint === undefined) !== (config.s3Bucket === undefined)) {
    problems.push('S3_ENDPOINT and S3_BUCKET go together: set both to store images in S3, or neither for local disk.');
  }
  if (config.replicasRequired !== undefined && config.replicasRequired > config.replicaUrls.length) {
    problems.push(
      `DB_REPLICAS_REQUIRED (${config.replicasRequired}) is above the ${config.replicaUrls.length} servers in DATABASE_REPLICA_URLS.`,
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

export interface ApiPoolDecision {
  /** The pool size to use. */
  readonly size: number;
  /** The plan the size came from, or the plan the override was checked against. */
  readonly plan: PoolPlan;
  /** Problems with the server found (plan or lifetime does not fit). Empty when all fits. */
  readonly problems: readonly string[];
  readonly warnings: readonly string[];
}

/**
 * Decides the API's pool size against the server it found: the plan from the environment, or
 * DB_POOL_SIZE checked against that plan. The caller refuses or warns on `problems` (DB_PLAN_CHECK).
 * A read replica (`role`) is planned the same way against its own limits (planReplicaServer).
 */
export function planApiPool(
  config: ApiConfig,
  server: ServerLimits,
  role: 'primary' | 'replica' = 'primary',
): ApiPoolDecision {
  const problems: string[] = [];
  // DB_MAX_CONNECTIONS describes the primary; a replica is always planned on what it reports.
  const configured = role === 'primary' ? config.maxConnections : 'auto';
  const maxConnections = configured === 'auto' ? server.maxConnections : configured;
  if (configured !== 'auto' && configured > server.maxConnections) {
    problems.push(`DB_MAX_CONNECTIONS=${configured} but the server's max_connections is ${server.maxConnections}`);
  }
  const input: PlanInput = {
    maxConnections: Math.min(maxConnections, server.maxConnections),
    replicas: config.replicas,
    maxReplicas: config.maxReplicas,
    maxSurge: config.maxSurge,
    reserved: config.reserved,
    otherClients: config.otherClients,
    warmSlots: config.warmSlots,
  };
  const plan = role === 'primary' ? planPool(input) : planReplicaServer(input, input.maxConnections);
  const size = config.poolSize ?? plan.perInstance;
  if (config.poolSize !== undefined && config.poolSize > plan.perInstance) {
    problems.push(
      `DB_POOL_SIZE=${config.poolSize} is above the plan's ${plan.perInstance} per instance` +
        ` (max_connections ${plan.maxConnections}, ${plan.peakInstances} instances at peak): the fleet can exceed the server`,
    );
  }
  for (const rule of checkTiming({
    waitTimeoutS: server.waitTimeoutS,
    maxLifetimeMs: config.maxLifetimeMs,
    connectTimeoutMs: config.connectTimeoutMs,
    acquireTimeoutMs: config.acquireTimeoutMs,
    requestTimeoutMs: config.requestTimeoutMs,
  })) {
    problems.push(`DB_MAX_LIFETIME_MS: ${rule}`);
  }
  // A DB_POOL_SIZE below the plan leaves the room the plan would not: no headroom warning then.
  const warnings = size < plan.perInstance ? plan.warnings.filter((w) => w !== NO_HEADROOM_WARNING) : plan.warnings;
  return { size, plan, problems, warnings };
}
