// Flags of `pnpm bench` and the two sizes a run can have; every number bounded so a run ends by itself.
import { parseArgs } from 'node:util';

export const SCENARIOS = ['ceiling', 'auth', 'cold', 'ready', 'mixed', 'overload', 'replicas'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface Profile {
  readonly name: 'full' | 'quick';
  /** The data set, seeded once into the cached data dir. */
  readonly seed: { readonly members: number; readonly articles: number; readonly participations: number };
  /** Seconds of each closed-loop round (ceiling, auth, overload). */
  readonly roundS: number;
  /** Seconds of each fixed-rate round (ceiling CPU, mixed). */
  readonly fixedRateS: number;
  /** The cold-start burst: connections opened at t=0 and how long it lasts. */
  readonly burstConnections: number;
  readonly burstS: number;
  /** Offered rate of the mixed scenario. */
  readonly mixedRatePerS: number;
}

export const PROFILES: Record<Profile['name'], Profile> = {
  // The original deployment's data size and burst.
  full: {
    name: 'full',
    seed: { members: 100_000, articles: 100_000, participations: 200_000 },
    roundS: 3,
    fixedRateS: 3,
    burstConnections: 600,
    burstS: 10,
    mixedRatePerS: 400,
  },
  quick: {
    name: 'quick',
    seed: { members: 5_000, articles: 5_000, participations: 10_000 },
    roundS: 1,
    fixedRateS: 1,
    burstConnections: 600,
    burstS: 4,
    mixedRatePerS: 200,
  },
};

export interface BenchArgs {
  readonly profile: Profile;
  /** Rounds of every scenario; the arms alternate within each. */
  readonly rounds: number;
  /** The scenarios to run, in SCENARIOS order (`--only a,b`); all by default. */
  readonly scenarios: readonly Scenario[];
  /** Only rewrite report.md and the chart from the JSON already in bench/results. */
  readonly reportOnly: boolean;
}

export const USAGE = `usage: pnpm bench [--quick] [--only <scenario>[,<scenario>...]] [--rounds N (3-10)] [--report-only]
  scenarios: ${SCENARIOS.join(', ')}`;

export function parseBenchArgs(argv: string[]): BenchArgs {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      rounds: { type: 'string', default: '3' },
      'report-only': { type: 'boolean', default: false },
    },
  });
  const only = values.only?.split(',') ?? [...SCENARIOS];
  for (const name of only) {
    if (!(SCENARIOS as readonly string[]).includes(name)) {
      throw new RangeError(`--only ${JSON.stringify(name)} must be one of ${SCENARIOS.join(', ')}\n${USAGE}`);
    }
  }
  const rounds = Number(values.rounds);
  // Fewer than 3 alternating rounds cannot tell drift from a difference.
  if (!Number.isInteger(rounds) || rounds < 3 || rounds > 10) {
    throw new RangeError(`--rounds ${JSON.stringify(values.rounds)} must be an integer from 3 to 10\n${USAGE}`);
  }
  return {
    profile: PROFILES[values.quick ? 'quick' : 'full'],
    rounds,
    scenarios: SCENARIOS.filter((s) => only.includes(s)),
    reportOnly: values['report-only'],
  };
}
