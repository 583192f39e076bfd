import { ConfigError, readEnv, type Env } from './env.js';
import { DEFAULT_PORTS, databaseVars, planVars, warmerVars } from './variables.js';

// DB_RESERVED_CONNECTIONS: the room check keeps the same reserve free that the pool plan does.
export const warmerConfigVars = {
  ...databaseVars,
  warmSlots: planVars.warmSlots,
  reserved: planVars.reserved,
  ...warmerVars,
};

export type WarmerConfig = ReturnType<typeof readWarmerEnv>;

function readWarmerEnv(env: Env) {
  return readEnv(warmerConfigVars, env);
}

/** Reads and validates the warmer's configuration; throws a ConfigError naming every bad variable. */
export function loadWarmerConfig(env: Env = process.env): WarmerConfig {
  const config = readWarmerEnv(env);
  const problems: string[] = [];
  if (config.mode === 'sidecar' && !config.target) {
    problems.push("WARMER_TARGET is required in sidecar mode: the API's admin URL, e.g. http://127.0.0.1:3001.");
  }
  if (config.mode === 'fleet' && !config.fleetHost) {
    problems.push('WARMER_FLEET_HOST is required in fleet mode: the DNS name of the API replicas, e.g. api.');
  }
  if (config.replay && config.replayFile) problems.push('Set WARMER_REPLAY or WARMER_REPLAY_FILE, not both.');
  if (problems.length > 0) throw new ConfigError(problems);
  if (config.mode === 'sidecar' && config.target && !config.targetPublic) {
    const pub = new URL(config.target.href);
    pub.port = String(DEFAULT_PORTS.api);
    return { ...config, targetPublic: pub };
  }
  return config;
}
