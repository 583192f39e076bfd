// The k6 scenarios against a local stack (a real API process on a throwaway database, started with
// the load configuration k6/load.env, as the README tells a load tester to start theirs): each runs
// a few seconds at a low rate, one after the other against that one API, answers correctly (no
// failed check, no sign-in turned away with 429 or 503) and leaves its summary as JSON and text in
// the results folder. Skipped with a message when no `k6` binary is on PATH. The token minter
// (`pnpm k6:tokens`) and the checks of the load configuration need no k6 and always run.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseEnv, promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { parse } from 'yaml';
import { apiVars } from '@mokakbab/config';
import { createTestDatabase, type TestDatabase, getJson, waitFor } from '@mokakbab/testkit';
import { startApi, type ApiProcess } from './helpers/processes.js';

const ROOT = resolve(import.meta.dirname, '..');
const run = promisify(execFile);
const hasK6 = spawnSync('k6', ['version'], { stdio: 'ignore' }).status === 0;
const SCENARIOS = readdirSync(join(ROOT, 'k6')).filter((f) => f.endsWith('.js'));
const SEED = { members: 20, articles: 10, participations: 20 };
// k6 exits 99 when a threshold failed: latency bounds are for real runs, not a shared test machine.
const THRESHOLDS_FAILED = 99;
// The one definition of the API's settings for a load test, read the way Compose's env_file reads it.
const LOAD_ENV_FILE = 'k6/load.env';
const LOAD_ENV = parseEnv(readFileSync(join(ROOT, LOAD_ENV_FILE), 'utf8'));

interface Summary {
  metrics: Record<string, { values: Record<string, number> }>;
}

let db: TestDatabase;
let api: ApiProcess;
let dir: string;

before(async () => {
  db = await createTestDatabase();
  await db.seed(SEED);
  api = await startApi({ databaseUrl: db.url, env: { ...LOAD_ENV, WARM_ON_BOOT: 'true' } });
  await waitFor('the API ready', async () =>
    (await getJson(`${api.url}/health/ready`)).status === 200 ? true : undefined,
  );
  dir = mkdtempSync(join(tmpdir(), 'mokakbab-k6-'));
});
after(async () => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  await api?.stop();
  await db?.close();
});

test('k6/load.env names only API variables, and the Compose load override gives the API exactly that file', () => {
  const known = new Set(Object.values(apiVars).map((spec) => spec.name));
  assert.ok(Object.keys(LOAD_ENV).length > 0);
  for (const name of Object.keys(LOAD_ENV)) assert.ok(known.has(name), `${name} is not an API variable`);
  const override = parse(readFileSync(join(ROOT, 'k6/compose.load.yaml'), 'utf8')) as {
    services: Record<string, { env_file?: string[] }>;
  };
  assert.deepEqual(Object.keys(override.services), ['api'], 'the override changes the API only');
  // Compose resolves an override's paths against the first file's folder, infra/compose/.
  const files = (override.services.api?.env_file ?? []).map((f) => resolve(ROOT, 'infra/compose', f));
  assert.deepEqual(files, [join(ROOT, LOAD_ENV_FILE)]);
});

/** `pnpm k6:tokens --count <count>` against the test API (or `baseUrl`), into `out`. */
async function mintTokens(count: number, out: string, baseUrl = api.url): Promise<void> {
  const args = ['--conditions=source', '--import', 'tsx', 'scripts/k6-tokens.ts'];
  args.push('--count', String(count), '--base-url', baseUrl, '--out', out);
  await run(process.execPath, args, { cwd: ROOT, timeout: 60_000 });
}

/** Entry i of the file at `out` is a working pair of member i + 1. */
async function assertTokenPairs(out: string, count: number): Promise<void> {
  const pairs = JSON.parse(readFileSync(out, 'utf8')) as { accessToken: string; refreshToken: string }[];
  assert.equal(pairs.length, count);
  for (const [i, pair] of pairs.entries()) {
    const res = await getJson<{ id: number }>(`${api.url}/members/${i + 1}`, {
      headers: { authorization: `Bearer ${pair.accessToken}` },
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.id, i + 1, 'entry i is member i + 1');
    assert.ok(pair.refreshToken);
  }
}

let minted: Promise<string> | undefined;
/** One tokens file for every seeded member, minted once (mixed spends only its refresh tokens). */
const scenarioTokens = (): Promise<string> => {
  const out = join(dir, 'scenario-tokens.json');
  minted ??= mintTokens(SEED.members, out).then(() => out);
  return minted;
};

test('pnpm k6:tokens --count N writes working token pairs for members 1..N', async () => {
  const out = join(dir, 'tokens.json');
  await mintTokens(3, out);
  await assertTokenPairs(out, 3);
});

test('pnpm k6:tokens waits out a 429 per its Retry-After and mints every pair', async () => {
  // The default limits in small: 2 sign-ins per address per second. 4 pairs need a second window.
  const limited = await startApi({
    databaseUrl: db.url,
    env: { RATE_LIMIT_AUTH_IP_MAX: '2', RATE_LIMIT_WINDOW_MS: '1000' },
  });
  try {
    const out = join(dir, 'limited-tokens.json');
    await mintTokens(4, out, limited.url);
    await assertTokenPairs(out, 4);
  } finally {
    await limited.stop();
  }
});

describe(
  'each k6 scenario for a few seconds',
  { skip: hasK6 ? false : 'no k6 binary on PATH (install k6 to run these)' },
  () => {
    test('the scenarios found', () => {
      assert.deepEqual(SCENARIOS.sort(), ['auth-heavy.js', 'cold-start-spike.js', 'mixed.js', 'steady.js']);
    });

    for (const scenario of SCENARIOS) {
      test(`${scenario}: runs, every check passes, the summary is written as JSON and text`, async () => {
        // k6 writes handleSummary's files but does not create their folder.
        const results = join(dir, scenario);
        mkdirSync(results);
        const env: Record<string, string> = {
          BASE_URL: api.url,
          DURATION: '3s',
          RATE: '10',
          VUS: '4',
          MAX_VUS: '10',
          MEMBERS: String(SEED.members),
          ARTICLES: String(SEED.articles),
          RESULTS_DIR: results,
        };
        // mixed and steady take their tokens from a `pnpm k6:tokens` file, as their README commands
        // may: mixed's own sign-ins would be as many at once as VUs start together, more than the
        // hashing cap on a slow machine (a 503 that depends on timing). The spike signs in once in
        // setup(), auth-heavy with 4 VUs against a cap of 4: never turned away.
        if (scenario === 'mixed.js' || scenario === 'steady.js') env.TOKENS_FILE = await scenarioTokens();
        const args = [
          'run',
          '--quiet',
          ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
          `k6/${scenario}`,
        ];
        const k6 = spawnSync('k6', args, { cwd: ROOT, encoding: 'utf8', timeout: 90_000 });
        assert.ok(
          k6.status === 0 || k6.status === THRESHOLDS_FAILED,
          `k6 exited ${k6.status ?? k6.signal}:\n${k6.stdout.slice(-2000)}\n${k6.stderr.slice(-2000)}`,
        );
        const files = readdirSync(results).sort();
        const name = scenario.replace(/\.js$/, '');
        assert.equal(files.length, 2, `two files: ${files.join(', ')}`);
        assert.match(files[0]!, new RegExp(`^${name}-.+\\.json$`));
        assert.match(files[1]!, new RegExp(`^${name}-.+\\.txt$`));
        const summary = JSON.parse(readFileSync(join(results, files[0]!), 'utf8')) as Summary;
        assert.ok((summary.metrics.http_reqs?.values.count ?? 0) > 0, 'requests were sent');
        assert.equal(summary.metrics.checks?.values.fails, 0, `no wrong answer:\n${k6.stdout.slice(-2000)}`);
        // A sign-in waited out (429 RATE_LIMITED, 503 HASHING_BUSY) passes its check in the end:
        // these runs stay under the hashing cap (at most VUS=4 sign-ins at once) and the raised
        // limits, so any is a wrong configuration.
        assert.equal(
          summary.metrics.sign_in_rejected?.values.count ?? 0,
          0,
          `no sign-in turned away:\n${k6.stdout.slice(-2000)}`,
        );
        if (env.TOKENS_FILE) assert.equal(summary.metrics.sign_in_time, undefined, 'no sign-in with a tokens file');
        const text = readFileSync(join(results, files[1]!), 'utf8');
        assert.match(text, new RegExp(`^${name}: [\\d.]+ s, thresholds `));
        assert.match(text, /^ {2}http_req_duration: avg=/m);
      });
    }
  },
);
