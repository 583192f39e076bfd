// Micro-benchmark: what the API launcher's glibc settings cost and save on password hashes. Each
// arm is a fresh process that hashes at the API's default scrypt cost, PASSWORD_HASH_MAX_CONCURRENT
// at a time, as sign-up and sign-in do; arms alternate over 3 rounds (ABC, BCA, CAB).
//   tsx --conditions=source bench/malloc.ts
// The mixed scenario cannot show this: the seeded members' hashes use a low cost. Bounded: about
// 40 hashes per arm and round, each child killed after CHILD_TIMEOUT_MS.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { authVars } from '@mokakbab/config';
import { API_LAUNCHER } from './lib/api-process.js';
import { alternate } from './lib/scenario.js';
import { formatSpread, ratio, spread } from './lib/stats.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const ROUNDS = 3;
const BATCHES = 10;
const CHILD_TIMEOUT_MS = 120_000;
const COST = Number(authVars.scryptCost.defaultValue);
const CONCURRENT = Number(authVars.hashMaxConcurrent.defaultValue);

// The child: BATCHES x CONCURRENT hashes through the API's own hashPassword, then its CPU per hash
// and its RSS once they are done (what stays resident between sign-ins).
const CHILD = `
import { readFileSync } from 'node:fs';
import { hashPassword } from '@mokakbab/db';
const start = process.cpuUsage();
for (let b = 0; b < ${BATCHES}; b++)
  await Promise.all(Array.from({ length: ${CONCURRENT} }, (_, i) => hashPassword('password' + b + i, ${COST})));
const { user, system } = process.cpuUsage(start);
const rssKb = Number(/VmRSS:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
console.log(JSON.stringify({ cpuMs: (user + system) / 1000, systemMs: system / 1000, rssKb }));
`;

const ARMS = {
  'run.sh': { launcher: true, env: {} },
  'run.sh, mmap threshold without hugetlb': {
    launcher: true,
    env: { GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=131072' },
  },
  'plain node (glibc defaults)': { launcher: false, env: {} },
} as const;
type Arm = keyof typeof ARMS;

interface Run {
  readonly cpuMsPerHash: number;
  readonly systemMsPerHash: number;
  readonly rssMb: number;
}

function run(arm: Arm): Run {
  const { launcher, env } = ARMS[arm];
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => k !== 'NODE_OPTIONS' && k !== 'GLIBC_TUNABLES'),
  );
  const nodeArgs = ['--input-type=module', '-e', CHILD];
  const out = execFileSync(launcher ? 'sh' : process.execPath, launcher ? [API_LAUNCHER, ...nodeArgs] : nodeArgs, {
    cwd: ROOT,
    env: { ...inherited, ...env },
    encoding: 'utf8',
    timeout: CHILD_TIMEOUT_MS,
  });
  const r = JSON.parse(out) as { cpuMs: number; systemMs: number; rssKb: number };
  const hashes = BATCHES * CONCURRENT;
  return { cpuMsPerHash: r.cpuMs / hashes, systemMsPerHash: r.systemMs / hashes, rssMb: r.rssKb / 1024 };
}

const arms = Object.keys(ARMS) as Arm[];
const results = await alternate(ROUNDS, arms, async (arm, round) => {
  const r = run(arm);
  console.error(`round ${round + 1} ${arm}: ${JSON.stringify(r)}`);
  return r;
});
const base = 'plain node (glibc defaults)' satisfies Arm;
const med = (arm: Arm, key: keyof Run) => spread(results[arm].map((r) => r[key])).median;
console.log(
  `scrypt N=${COST}, r=8, ${CONCURRENT} at a time, ${BATCHES * CONCURRENT} hashes per arm and round, ${ROUNDS} rounds; median (range)\n`,
);
console.log('| arm | CPU ms per hash | of which system | RSS after the hashes (MB) | CPU / plain | RSS / plain |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const arm of arms) {
  const f = (key: keyof Run) => formatSpread(spread(results[arm].map((r) => r[key])), 1);
  console.log(
    `| ${arm} | ${f('cpuMsPerHash')} | ${f('systemMsPerHash')} | ${f('rssMb')} | ${ratio(med(arm, 'cpuMsPerHash'), med(base, 'cpuMsPerHash'))} | ${ratio(med(arm, 'rssMb'), med(base, 'rssMb'))} |`,
  );
}
