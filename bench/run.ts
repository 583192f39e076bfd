// `pnpm bench`: ratios measured in one run on this machine, against a throwaway database over loopback.
//   1. JWT cache on vs off: two API processes, alternating autocannon rounds on the endpoint the
//      original load test hammered, with a pool of real tokens.
//   2. Cold vs warm pool: a fresh API (WARM_ON_BOOT=false) hit by a burst the moment its port opens,
//      vs a fresh API warmed first with POST /pool/warm.
//   Both connect through a user whose every new connection takes --connect-delay-ms more (init_connect),
//   as a handshake to a remote server over TLS does; on loopback a connect is almost free and a cold
//   pool would look better than it is in production.
//   3. Start to ready: a fresh API (WARM_ON_BOOT=true) from spawn to /health/ready 200, with its warm-up time.
// Everything it starts is stopped in `finally`. Flags: see bench/lib/args.ts.
import { generateKeyPairSync } from 'node:crypto';
import { warmerVars } from '@mokakbab/config';
import { createTestDatabase, type TestDatabase } from '@mokakbab/db';
import { startApi, waitFor200, type ApiProcess } from './lib/api-process.js';
import { parseBenchArgs, type BenchArgs } from './lib/args.js';
import { runLoad, type LoadResult } from './lib/load.js';
import { median, ratio, table } from './lib/report.js';
import { signInMembers } from './lib/tokens.js';
import { slowHandshakes } from '../test/helpers/slow-handshakes.js';

const SEED = { members: 2_000, articles: 500, participations: 20_000 };
const TOKEN_COUNT = 300;
const JWT_CACHE_ON = '10000';
const WARMUP_S = 1;
const REPLAY_CONNECTIONS = Number(warmerVars.replayConnections.defaultValue);

interface PoolStats {
  total: number;
  maxConnecting: number;
  lastWarmMs: number | null;
}

interface ColdRound {
  load: LoadResult;
  /** The most handshakes in flight at once in this process, from GET /pool. */
  maxConnecting: number;
}

async function busiestArticle(db: TestDatabase): Promise<number> {
  const rows = await db.query<{ id: number }[]>(
    `SELECT article_id AS id FROM participation WHERE status = 'ACTIVE'
     GROUP BY article_id ORDER BY COUNT(*) DESC, article_id LIMIT 1`,
  );
  return rows[0]?.id ?? 1;
}

async function poolStats(api: ApiProcess): Promise<PoolStats> {
  const res = await fetch(`${api.adminUrl}/pool`);
  return (await res.json()) as PoolStats;
}

function jwtEnv(algorithm: BenchArgs['algorithm']): Record<string, string> {
  if (algorithm === 'HS256') return { JWT_SECRET: 'bench-secret-that-is-at-least-32-characters' };
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    JWT_ALGORITHM: 'RS256',
    JWT_PUBLIC_KEY: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    JWT_PRIVATE_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

let jwtKeys: Record<string, string> | undefined;

function apiEnv(
  db: TestDatabase,
  args: BenchArgs,
  extra: Record<string, string>,
  databaseUrl: URL = db.url,
): Record<string, string> {
  // One key pair for every process of the run: tokens signed by one API verify on the others.
  jwtKeys ??= jwtEnv(args.algorithm);
  return {
    DATABASE_URL: databaseUrl.href,
    ...jwtKeys,
    DB_POOL_SIZE: String(args.poolSize),
    ...extra,
  };
}

interface StartupRound {
  /** Spawn to /health/live 200: process start, module loading, config, server limits, listen. */
  liveMs: number;
  /** Spawn to /health/ready 200: the above plus the pool warm-up. */
  readyMs: number;
  /** The pool's own warm-up time (GET /pool lastWarmMs). */
  warmMs: number;
}

async function startupRound(db: TestDatabase, args: BenchArgs, slowUrl: URL): Promise<StartupRound> {
  const started = performance.now();
  const api = await startApi(apiEnv(db, args, { WARM_ON_BOOT: 'true' }, slowUrl));
  try {
    const liveMs = Math.round(performance.now() - started);
    await waitFor200(`${api.url}/health/ready`, api);
    const readyMs = Math.round(performance.now() - started);
    return { liveMs, readyMs, warmMs: (await poolStats(api)).lastWarmMs ?? Number.NaN };
  } finally {
    await api.stop();
  }
}

async function jwtBench(
  url: (api: ApiProcess) => string,
  on: ApiProcess,
  off: ApiProcess,
  tokens: string[],
  args: BenchArgs,
) {
  const load = (api: ApiProcess, durationS: number) =>
    runLoad({ url: url(api), connections: args.connections, durationS, bearerTokens: tokens });
  // Both processes compile their hot path before anything is measured.
  await load(on, WARMUP_S);
  await load(off, WARMUP_S);
  const rounds: { on: LoadResult; off: LoadResult }[] = [];
  for (let round = 0; round < args.rounds; round++) {
    // Alternate the order so drift (thermal, background work) does not favour one arm.
    if (round % 2 === 0) {
      const first = await load(on, args.durationS);
      rounds.push({ on: first, off: await load(off, args.durationS) });
    } else {
      const first = await load(off, args.durationS);
      rounds.push({ on: await load(on, args.durationS), off: first });
    }
    const last = rounds.at(-1)!;
    console.error(`jwt round ${round + 1}: on ${last.on.rps.toFixed(0)} req/s, off ${last.off.rps.toFixed(0)} req/s`);
  }
  return rounds;
}

async function coldRound(
  db: TestDatabase,
  args: BenchArgs,
  path: string,
  tokens: string[],
  mode: 'cold' | 'warm' | 'warm+replay',
  slowUrl: URL,
): Promise<ColdRound> {
  // A new process each time: "cold" must mean no connection has ever been opened.
  const api = await startApi(apiEnv(db, args, { WARM_ON_BOOT: 'false' }, slowUrl));
  try {
    if (mode !== 'cold') {
      const res = await fetch(`${api.adminUrl}/pool/warm`, { method: 'POST' });
      if (res.status !== 200) throw new Error(`POST /pool/warm answered ${res.status}: ${await res.text()}`);
      await waitFor200(`${api.url}/health/ready`, api);
    }
    if (mode === 'warm+replay') {
      // What the warmer's replay does (WARMER_REPLAY_DURATION_MS, WARMER_REPLAY_CONNECTIONS): a short,
      // gentle run of the hot path so it is compiled before the burst.
      await runLoad({ url: `${api.url}${path}`, connections: REPLAY_CONNECTIONS, durationS: 1, bearerTokens: tokens });
    }
    const load = await runLoad({
      url: `${api.url}${path}`,
      connections: args.burstConnections,
      durationS: args.burstDurationS,
      bearerTokens: tokens,
    });
    return { load, maxConnecting: (await poolStats(api)).maxConnecting };
  } finally {
    await api.stop();
  }
}

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2));
  const started: ApiProcess[] = [];
  let db: TestDatabase | undefined;
  const summary: Record<string, unknown> = { args };
  const lines: string[] = [];
  try {
    console.error('starting a throwaway database and seeding it ...');
    // A dedicated server: the slow-connect user changes a server-wide setting (init_connect).
    db = await createTestDatabase({ serverOptions: { max_connections: 300 } });
    await db.seed(SEED);
    const articleId = await busiestArticle(db);
    const path = `/participations/articles/${articleId}?limit=20`;

    const on = await startApi(apiEnv(db, args, { JWT_CACHE_SIZE: JWT_CACHE_ON }));
    started.push(on);
    await waitFor200(`${on.url}/health/ready`, on);
    const tokens = await signInMembers(on.url, TOKEN_COUNT);
    console.error(`${tokens.length} members signed in; target GET ${path}`);

    if (args.only === undefined || args.only === 'jwt') {
      const off = await startApi(apiEnv(db, args, { JWT_CACHE_SIZE: '0' }));
      started.push(off);
      await waitFor200(`${off.url}/health/ready`, off);
      const rounds = await jwtBench((api) => `${api.url}${path}`, on, off, tokens, args);
      const onRps = median(rounds.map((r) => r.on.rps));
      const offRps = median(rounds.map((r) => r.off.rps));
      const onP99 = median(rounds.map((r) => r.on.p99Ms));
      const offP99 = median(rounds.map((r) => r.off.p99Ms));
      const failed = (r: LoadResult) => r.errors + r.non2xx;
      summary.jwt = {
        onRps: Math.round(onRps),
        offRps: Math.round(offRps),
        ratioOnOff: ratio(onRps, offRps),
        onP99Ms: onP99,
        offP99Ms: offP99,
        failed: rounds.reduce((n, r) => n + failed(r.on) + failed(r.off), 0),
        rounds: rounds.map((r) => ({ onRps: Math.round(r.on.rps), offRps: Math.round(r.off.rps) })),
      };
      lines.push(
        `JWT cache on vs off (${args.algorithm}): GET ${path}, ${args.connections} connections, ${args.rounds} x ${args.durationS} s per arm (median)`,
        table(
          ['arm', 'req/s', 'p99 ms', 'failed'],
          [
            ['cache on (10000)', Math.round(onRps), onP99, rounds.reduce((n, r) => n + failed(r.on), 0)],
            ['cache off (0)', Math.round(offRps), offP99, rounds.reduce((n, r) => n + failed(r.off), 0)],
          ],
        ),
        `ratio on/off: ${ratio(onRps, offRps)}x`,
        '',
      );
    }
    // Free the server's connections before the cold runs: each of these processes holds a full pool.
    await Promise.all(started.splice(0).map((api) => api.stop()));
    const slowUrl = await slowHandshakes(db, args.connectDelayMs);

    if (args.only === undefined || args.only === 'startup') {
      const runs: StartupRound[] = [];
      for (let round = 0; round < args.rounds; round++) runs.push(await startupRound(db, args, slowUrl));
      const med = (pick: (r: StartupRound) => number) => Math.round(median(runs.map(pick)));
      summary.startup = {
        poolSize: args.poolSize,
        liveMs: med((r) => r.liveMs),
        readyMs: med((r) => r.readyMs),
        warmMs: med((r) => r.warmMs),
        rounds: runs,
      };
      lines.push(
        `Start to ready: fresh API process from source (tsx), pool ${args.poolSize},` +
          ` +${args.connectDelayMs} ms per connect, ${args.rounds} rounds (median)`,
        table(
          ['spawn -> live ms', 'spawn -> ready ms', 'pool warm-up ms'],
          [[med((r) => r.liveMs), med((r) => r.readyMs), med((r) => r.warmMs)]],
        ),
        '',
      );
    }

    if (args.only === undefined || args.only === 'cold') {
      const cold: ColdRound[] = [];
      const warm: ColdRound[] = [];
      const replayed: ColdRound[] = [];
      for (let round = 0; round < args.rounds; round++) {
        cold.push(await coldRound(db, args, path, tokens, 'cold', slowUrl));
        warm.push(await coldRound(db, args, path, tokens, 'warm', slowUrl));
        replayed.push(await coldRound(db, args, path, tokens, 'warm+replay', slowUrl));
        console.error(
          `burst round ${round + 1}: p99 cold ${cold.at(-1)!.load.p99Ms} ms, warm ${warm.at(-1)!.load.p99Ms} ms,` +
            ` warm+replay ${replayed.at(-1)!.load.p99Ms} ms`,
        );
      }
      const arm = (runs: ColdRound[]) => ({
        rps: Math.round(median(runs.map((r) => r.load.rps))),
        p99Ms: median(runs.map((r) => r.load.p99Ms)),
        maxMs: median(runs.map((r) => r.load.maxMs)),
        errors: runs.reduce((n, r) => n + r.load.errors, 0),
        non2xx: runs.reduce((n, r) => n + r.load.non2xx, 0),
        maxConnecting: Math.max(...runs.map((r) => r.maxConnecting)),
      });
      const coldArm = arm(cold);
      const warmArm = arm(warm);
      const replayArm = arm(replayed);
      summary.cold = {
        cold: coldArm,
        warm: warmArm,
        warmReplay: replayArm,
        ratioP99ColdWarm: ratio(coldArm.p99Ms, warmArm.p99Ms),
        ratioMaxColdWarm: ratio(coldArm.maxMs, warmArm.maxMs),
        ratioP99ColdWarmReplay: ratio(coldArm.p99Ms, replayArm.p99Ms),
        ratioMaxColdWarmReplay: ratio(coldArm.maxMs, replayArm.maxMs),
      };
      const row = (name: string, a: ReturnType<typeof arm>) => [
        name,
        a.rps,
        a.p99Ms,
        a.maxMs,
        a.errors,
        a.non2xx,
        a.maxConnecting,
      ];
      lines.push(
        `Cold vs warm pool: burst of ${args.burstConnections} connections for ${args.burstDurationS} s on a fresh API` +
          ` (pool ${args.poolSize}, +${args.connectDelayMs} ms per connect), ${args.rounds} rounds (median; errors summed)`,
        table(
          ['pool', 'req/s', 'p99 ms', 'max ms', 'errors', 'non-2xx', 'max handshakes'],
          [
            row('cold (first request opens it)', coldArm),
            row('warm (POST /pool/warm first)', warmArm),
            row('warm + 1 s replay (the warmer)', replayArm),
          ],
        ),
        `ratio p99 cold/warm: ${ratio(coldArm.p99Ms, warmArm.p99Ms)}x, max cold/warm: ${ratio(coldArm.maxMs, warmArm.maxMs)}x;` +
          ` p99 cold/warm+replay: ${ratio(coldArm.p99Ms, replayArm.p99Ms)}x, max: ${ratio(coldArm.maxMs, replayArm.maxMs)}x`,
        '',
      );
    }
    console.log(lines.join('\n'));
    console.log(JSON.stringify({ bench: 'mokakbab', ...summary }));
  } finally {
    await Promise.all(started.map((api) => api.stop()));
    await db?.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
