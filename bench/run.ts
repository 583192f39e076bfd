// `pnpm bench`: every figure a ratio or a comparison of arms measured in one run, on the original
// deployment's data size (`--quick`: less data, shorter rounds) over verified TLS. Scenarios:
// ceiling, auth, cold, ready, mixed, overload, replicas (bench/scenarios/*). Writes bench/results/<scenario>.json,
// report.md and the cold-start chart. Everything it starts is stopped in `finally`.
import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseBenchArgs, SCENARIOS, type Scenario } from './lib/args.js';
import { openBenchDatabase, type BenchDatabase } from './lib/database.js';
import { renderChart, renderReport, type RunInfo } from './lib/report.js';
import { createContext, type Context, type ScenarioResult } from './lib/scenario.js';
import { auth } from './scenarios/auth.js';
import { ceiling } from './scenarios/ceiling.js';
import { cold } from './scenarios/cold.js';
import { mixed } from './scenarios/mixed.js';
import { overload } from './scenarios/overload.js';
import { ready } from './scenarios/ready.js';
import { replicas } from './scenarios/replicas.js';

export const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));
const CHART_FILE = 'cold-start.svg';
const RUN_FILE = 'run.json';

const RUNNERS: Record<Scenario, (ctx: Context) => Promise<ScenarioResult>> = {
  ceiling,
  auth,
  cold,
  ready,
  mixed,
  overload,
  replicas,
};

const log = (line: string) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);

async function busiestArticle(db: BenchDatabase): Promise<number> {
  const rows = await db.query<{ id: number }[]>(
    `SELECT article_id AS id FROM participation WHERE status = 'ACTIVE'
     GROUP BY article_id ORDER BY COUNT(*) DESC, article_id LIMIT 1`,
  );
  return rows[0]?.id ?? 1;
}

const BUILT_PACKAGES = ['services/api', 'packages/config', 'packages/db'].map((dir) =>
  fileURLToPath(new URL(`../${dir}/`, import.meta.url)),
);

function fileMtimesMs(dir: string): number[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => statSync(join(e.parentPath, e.name)).mtimeMs);
}

/** A package whose src changed after its dist was written (or without dist) needs a build. */
function distIsStale(): boolean {
  return BUILT_PACKAGES.some(
    (dir) =>
      !existsSync(join(dir, 'dist')) ||
      Math.max(...fileMtimesMs(join(dir, 'src'))) > Math.min(...fileMtimesMs(join(dir, 'dist'))),
  );
}

/** Rewrites report.md and the chart from every <scenario>.json in the results dir. */
function writeReport(info: RunInfo): void {
  const results = SCENARIOS.filter((s) => readdirSync(RESULTS_DIR).includes(`${s}.json`)).map(
    (s) => JSON.parse(readFileSync(`${RESULTS_DIR}${s}.json`, 'utf8')) as ScenarioResult,
  );
  const coldResult = results.find((r) => r.timeline);
  if (coldResult?.timeline) {
    writeFileSync(
      `${RESULTS_DIR}${CHART_FILE}`,
      renderChart(coldResult.timeline, `${coldResult.title}: p99 and failures per ${coldResult.timeline.bucketMs} ms`),
    );
  }
  writeFileSync(`${RESULTS_DIR}report.md`, renderReport(info, results, coldResult?.timeline ? CHART_FILE : undefined));
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const args = parseBenchArgs(argv);
  const command = ['pnpm bench', ...argv].join(' ');
  mkdirSync(RESULTS_DIR, { recursive: true });
  if (args.reportOnly) {
    writeReport(JSON.parse(readFileSync(`${RESULTS_DIR}${RUN_FILE}`, 'utf8')) as RunInfo);
    return;
  }
  const started = performance.now();
  const startedAt = new Date().toISOString();
  if (distIsStale()) {
    log('building the API (the bench runs dist, as production does) ...');
    execFileSync('pnpm', ['--filter', '@mokakbab/api...', 'run', 'build'], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  const db = await openBenchDatabase(args.profile, log);
  try {
    const ctx = createContext(args, db, await busiestArticle(db), log);
    for (const scenario of args.scenarios) {
      log(`${scenario} ...`);
      const loadBefore = loadavg()[0]!;
      const measured = await RUNNERS[scenario](ctx);
      // The 1-minute load average before and after: other work on the machine shows here.
      const loadAverage = [loadBefore, loadavg()[0]!].map((l) => Math.round(l * 10) / 10) as [number, number];
      const result = { ...measured, ranWith: { command, at: new Date().toISOString(), loadAverage } };
      writeFileSync(`${RESULTS_DIR}${scenario}.json`, `${JSON.stringify(result, null, 1)}\n`);
      for (const g of result.goals)
        log(`  ${g.met === false ? 'MISSED' : g.met ? 'met' : 'n/a'}: ${g.name} ${g.value} (goal ${g.target})`);
    }
  } finally {
    await db.close();
  }
  const info: RunInfo = {
    command,
    startedAt,
    durationS: (performance.now() - started) / 1000,
    machine: `${cpus().length} x ${cpus()[0]?.model.trim() ?? 'CPU'}, Node ${process.version}, shared with other work`,
    data: `${db.server.flavor} ${args.profile.name} profile: ${JSON.stringify(args.profile.seed)}`,
  };
  writeFileSync(`${RESULTS_DIR}${RUN_FILE}`, `${JSON.stringify(info, null, 1)}\n`);
  writeReport(info);
  log(`done in ${info.durationS.toFixed(0)} s; ${RESULTS_DIR}report.md`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exitCode = 1;
});
