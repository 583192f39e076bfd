// What every scenario gets (the database, tokens, a way to start APIs) and what it returns (tables
// and goals, rendered into report.md; the raw figures go to bench/results/<scenario>.json).
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { startApi, waitFor200, type ApiProcess, type StartOptions } from './api-process.js';
import type { BenchArgs, Scenario } from './args.js';
import { burst, type BurstOptions } from './burst.js';
import { cpuMeter } from './cpu.js';
import type { BenchDatabase } from './database.js';
import { closedLoop, summarize, type ClosedLoopOptions, type Sample, type Summary } from './load.js';
import { signInMembers } from './tokens.js';

/** k6/load.env: the API's settings for a load test from one client address. */
const LOAD_TEST_ENV = parseEnv(readFileSync(new URL('../../k6/load.env', import.meta.url), 'utf8')) as Record<
  string,
  string
>;

export interface Table {
  readonly caption: string;
  readonly header: readonly string[];
  readonly rows: readonly (readonly (string | number)[])[];
}

export interface Goal {
  readonly name: string;
  readonly target: string;
  readonly value: string;
  /** null: not measurable in this run (e.g. a ratio over nothing). */
  readonly met: boolean | null;
}

/** The cold-start chart's series: per arm, p99 and errors per bucket on one time axis. */
export interface Timeline {
  readonly bucketMs: number;
  readonly series: readonly { readonly arm: string; readonly p99Ms: (number | null)[]; readonly errors: number[] }[];
}

export interface ScenarioResult {
  readonly scenario: Scenario;
  readonly title: string;
  /** What was run, in a sentence or two. */
  readonly setup: string;
  readonly tables: readonly Table[];
  readonly goals: readonly Goal[];
  /** Raw per-round figures. */
  readonly rounds: unknown;
  readonly timeline?: Timeline;
  /** Set by run.ts: the command and time of the run that measured this. */
  readonly ranWith?: {
    readonly command: string;
    readonly at: string;
    /** The machine's 1-minute load average when the scenario started and when it ended. */
    readonly loadAverage?: readonly [number, number];
  };
}

export type JwtAlgorithm = 'HS256' | 'ES256';

export interface Context {
  readonly args: BenchArgs;
  readonly db: BenchDatabase;
  readonly log: (line: string) => void;
  /** The article with the most ACTIVE participants: a full participants page. */
  readonly articleId: number;
  /** Env of an API process on the bench database with this algorithm's keys, plus `extra`. */
  apiEnv(extra?: Record<string, string>, algorithm?: JwtAlgorithm): Record<string, string>;
  /** Access tokens of seeded members, valid on every API process of that algorithm. */
  tokens(algorithm?: JwtAlgorithm): Promise<string[]>;
  /** `alternate` over the run's rounds, waiting before each measurement until the database is idle. */
  alternate<A extends string, R>(
    arms: readonly A[],
    measure: (arm: A, round: number) => Promise<R>,
  ): Promise<Record<A, R[]>>;
  /** Starts an API with apiEnv(extra) (or another entry) and waits for /health/ready. */
  startReady(
    extra?: Record<string, string>,
    algorithm?: JwtAlgorithm,
    entry?: string,
    options?: StartOptions,
  ): Promise<ApiProcess>;
}

const TOKEN_COUNT = 300;
const HS256_SECRET = 'bench-secret-that-is-at-least-32-characters';

export function createContext(
  args: BenchArgs,
  db: BenchDatabase,
  articleId: number,
  log: (line: string) => void,
): Context {
  // One key per algorithm for the whole run: tokens signed by one API verify on the others.
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keys: Record<JwtAlgorithm, Record<string, string>> = {
    HS256: { JWT_ALGORITHM: 'HS256', JWT_SECRET: HS256_SECRET },
    ES256: {
      JWT_ALGORITHM: 'ES256',
      JWT_PUBLIC_KEY: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      JWT_PRIVATE_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    },
  };
  const tokenSets = new Map<JwtAlgorithm, Promise<string[]>>();
  const ctx: Context = {
    args,
    db,
    log,
    articleId,
    apiEnv: (extra = {}, algorithm = 'HS256') => ({
      DATABASE_URL: db.url.href,
      DATABASE_CA: db.ca,
      DB_POOL_SIZE: '50',
      // The bench is one client address standing for many users, like a k6 box: the load test's
      // settings (raised per-address and per-email limits), from the one file that defines them.
      ...LOAD_TEST_ENV,
      // The members' tokens are signed in once and must outlive the whole run.
      JWT_ACCESS_TTL_S: '86400',
      ...keys[algorithm],
      ...extra,
    }),
    tokens(algorithm = 'HS256') {
      let set = tokenSets.get(algorithm);
      if (!set) {
        set = (async () => {
          const api = await ctx.startReady({ WARM_REQUESTS: '0', DB_POOL_SIZE: '8' }, algorithm);
          try {
            return await signInMembers(api.url, TOKEN_COUNT);
          } finally {
            await api.stop();
          }
        })();
        tokenSets.set(algorithm, set);
      }
      return set;
    },
    alternate: (arms, measure) => alternate(args.rounds, arms, measure, () => db.settle()),
    async startReady(extra = {}, algorithm = 'HS256', entry?: string, options?: StartOptions) {
      const api = await startApi(ctx.apiEnv(extra, algorithm), entry, options);
      try {
        await waitFor200(`${api.url}/health/ready`, api);
      } catch (err) {
        await api.stop();
        throw err;
      }
      return api;
    },
  };
  return ctx;
}

/**
 * Runs `measure` for every arm in every round, the arms' order rotating each round (AB, BA, AB ...),
 * so drift on a shared machine does not favour one arm. Returns each arm's results in round order.
 */
export async function alternate<A extends string, R>(
  rounds: number,
  arms: readonly A[],
  measure: (arm: A, round: number) => Promise<R>,
  /** Runs before each measurement (e.g. waiting for the database to be idle). */
  settle: () => Promise<void> = async () => undefined,
): Promise<Record<A, R[]>> {
  const out = Object.fromEntries(arms.map((arm) => [arm, [] as R[]])) as Record<A, R[]>;
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < arms.length; i++) {
      const arm = arms[(i + round) % arms.length]!;
      await settle();
      out[arm].push(await measure(arm, round));
    }
  }
  return out;
}

export interface Measured extends Summary {
  readonly rps: number;
  /** CPU µs per response of each measured process, and of the load client. */
  readonly cpuUsPerRequest: Record<string, number>;
  readonly clientCpuUsPerRequest: number;
  readonly samples: readonly Sample[];
}

/** A closed-loop run with the CPU of `pids` and of the client per response. */
export function measureClosed(opts: ClosedLoopOptions, pids: Record<string, number>): Promise<Measured> {
  return measureRun(() => closedLoop(opts), pids);
}

/** measureClosed with the burst client (lib/burst.ts): connections opened and accepted first. */
export function measureBurst(opts: BurstOptions, pids: Record<string, number>): Promise<Measured> {
  return measureRun(() => burst(opts), pids);
}

async function measureRun(
  run: () => Promise<{ samples: readonly Sample[]; durationS: number }>,
  pids: Record<string, number>,
): Promise<Measured> {
  const spent = cpuMeter(pids);
  const result = await run();
  const cpu = spent();
  const summary = summarize(result.samples);
  const perRequest = (ms: number) => Math.round((ms * 1000) / Math.max(1, summary.count));
  return {
    ...summary,
    rps: summary.count / result.durationS,
    cpuUsPerRequest: Object.fromEntries(Object.entries(cpu.byProcess).map(([k, v]) => [k, perRequest(v)])),
    clientCpuUsPerRequest: perRequest(cpu.clientMs),
    samples: result.samples,
  };
}

/** A goal "value <= target" or ">= target"; not measurable (null) when the value is. */
export function goal(name: string, value: number | null, op: '>=' | '<=', target: number, unit = ''): Goal {
  const shown = value === null || !Number.isFinite(value) ? 'n/a' : `${value}${unit}`;
  const met = value === null || !Number.isFinite(value) ? null : op === '>=' ? value >= target : value <= target;
  return { name, target: `${op} ${target}${unit}`, value: shown, met };
}
