// Flags of `pnpm bench`; every number bounded so a run always ends by itself.
import { parseArgs } from 'node:util';

export interface BenchArgs {
  /** Seconds per JWT round. */
  readonly durationS: number;
  /** Connections of each JWT round. */
  readonly connections: number;
  /** JWT rounds per arm and cold/warm pairs. */
  readonly rounds: number;
  readonly burstDurationS: number;
  readonly burstConnections: number;
  /** Pool size of every API process (DB_POOL_SIZE). */
  readonly poolSize: number;
  readonly only: 'jwt' | 'cold' | 'startup' | undefined;
  /** Added to every new database connection of the cold/warm and start-up runs (a remote, TLS handshake). */
  readonly connectDelayMs: number;
  /** JWT_ALGORITHM of the API processes. */
  readonly algorithm: 'HS256' | 'RS256';
}

export const USAGE = `usage: pnpm bench [--duration S] [--connections N] [--rounds N] [--only jwt|cold|startup]
                  [--burst-duration S] [--burst-connections N] [--pool-size N] [--algorithm HS256|RS256]
                  [--connect-delay-ms N]`;

function bounded(name: string, raw: string, min: number, max: number): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`--${name} ${JSON.stringify(raw)} must be an integer from ${min} to ${max}\n${USAGE}`);
  }
  return value;
}

export function parseBenchArgs(argv: string[]): BenchArgs {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string', default: '5' },
      connections: { type: 'string', default: '50' },
      rounds: { type: 'string', default: '3' },
      'burst-duration': { type: 'string', default: '3' },
      'burst-connections': { type: 'string', default: '200' },
      'pool-size': { type: 'string', default: '50' },
      only: { type: 'string' },
      algorithm: { type: 'string', default: 'HS256' },
      'connect-delay-ms': { type: 'string', default: '20' },
    },
  });
  if (values.only !== undefined && !['jwt', 'cold', 'startup'].includes(values.only)) {
    throw new RangeError(`--only ${JSON.stringify(values.only)} must be jwt, cold or startup\n${USAGE}`);
  }
  if (values.algorithm !== 'HS256' && values.algorithm !== 'RS256') {
    throw new RangeError(`--algorithm ${JSON.stringify(values.algorithm)} must be HS256 or RS256\n${USAGE}`);
  }
  return {
    durationS: bounded('duration', values.duration, 1, 60),
    connections: bounded('connections', values.connections, 1, 1_000),
    rounds: bounded('rounds', values.rounds, 1, 10),
    burstDurationS: bounded('burst-duration', values['burst-duration'], 1, 30),
    burstConnections: bounded('burst-connections', values['burst-connections'], 1, 1_000),
    poolSize: bounded('pool-size', values['pool-size'], 1, 100),
    only: values.only as BenchArgs['only'],
    algorithm: values.algorithm,
    connectDelayMs: bounded('connect-delay-ms', values['connect-delay-ms'], 0, 1_000),
  };
}
