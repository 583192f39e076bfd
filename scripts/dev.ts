// `pnpm dev`: the whole system on this machine. Without DATABASE_URL it runs a local server kept under
// .dev/ (data survives restarts), migrates, seeds a small data set once, then runs every service in
// watch mode with readable logs.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { Transform } from 'node:stream';
import mysql from 'mysql2/promise';
import { prettyFactory } from 'pino-pretty';
import { connectionOptions, DEFAULT_PORTS, databaseVars, readEnv, redactUrl, TEST_VARS } from '@mokakbab/config';
import { migrate, seed, seededMember } from '@mokakbab/db';
import {
  freePort,
  NoServerBinaryError,
  spawnTracked,
  startMysqlServer,
  waitFor,
  type Spawned,
} from '@mokakbab/testkit';
import { dockerAvailable, startDockerMysql } from './dev-docker.js';

const ROOT = new URL('..', import.meta.url).pathname;
const DEV_DIR = join(ROOT, '.dev');
const DEFAULT_DEV_DB_PORT = 33_306;
const DEV_SEED = { members: 1_000, articles: 500, participations: 3_000 };
// Above the API's SHUTDOWN_TIMEOUT_MS (20 s): the services end their drain themselves.
const STOP_TIMEOUT_MS = 30_000;
// Enough for one developer; a plan-sized pool on a local server would open every connection it has.
const DEV_POOL_SIZE = 10;
// Loopback only: a laptop's API, admin and warmer ports are not for the network it is on.
const DEV_HOST = '127.0.0.1';

async function portIsFree(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, DEV_HOST, () => server.close(() => resolve(true)));
  });
}

/** DEV_DB_PORT when set; else 33306, or a free port when something else holds 33306. */
async function devDbPort(): Promise<number> {
  const { devDbPort: configured } = readEnv({ devDbPort: TEST_VARS.devDbPort });
  if (configured !== undefined) return configured;
  if (await portIsFree(DEFAULT_DEV_DB_PORT)) return DEFAULT_DEV_DB_PORT;
  const port = await freePort();
  console.log(`port ${DEFAULT_DEV_DB_PORT} is taken: the local database uses ${port} (set DEV_DB_PORT to choose)`);
  return port;
}

interface LocalServer {
  url: URL;
  description: string;
  stop(): Promise<void> | void;
}

function devSecret(): string {
  const file = join(DEV_DIR, 'jwt-secret');
  if (!existsSync(file)) writeFileSync(file, randomBytes(36).toString('base64url'), { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}

/** mariadbd/mysqld from this machine, else MySQL 8.4 in Docker, else a message saying how to get one. */
async function localServer(port: number): Promise<LocalServer> {
  try {
    const server = await startMysqlServer({ dataDir: join(DEV_DIR, 'mysql'), port });
    return {
      url: server.url,
      description: `local ${server.flavor} server, data in .dev/mysql`,
      stop: () => server.stop(),
    };
  } catch (err) {
    if (!(err instanceof NoServerBinaryError)) throw err;
    if (!dockerAvailable()) {
      console.error(err.message);
      process.exit(1);
    }
    console.log('no mariadbd/mysqld here: starting MySQL 8.4 in Docker');
    const docker = await startDockerMysql(join(DEV_DIR, 'docker-mysql'), port);
    return { ...docker, description: 'MySQL 8.4 in Docker, data in .dev/docker-mysql' };
  }
}

async function localDatabase(port: number): Promise<{ url: URL; server: LocalServer }> {
  const server = await localServer(port);
  const admin = await mysql.createConnection({ ...connectionOptions(server.url), database: undefined });
  await admin.query('CREATE DATABASE IF NOT EXISTS mokakbab CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci');
  await admin.end();
  const url = new URL(server.url.href);
  url.pathname = '/mokakbab';
  return { url, server };
}

async function seedOnce(url: URL): Promise<void> {
  const conn = await mysql.createConnection(connectionOptions(url));
  const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n FROM member');
  await conn.end();
  if (Number(rows[0]!.n) > 0) return;
  const result = await seed(url, DEV_SEED);
  console.log(`seeded ${result.members} members, ${result.articles} articles, ${result.participations} participations`);
}

/** Turns a service's pino JSON lines into coloured, prefixed lines. */
function prettyLines(name: string): Transform {
  const pretty = prettyFactory({ colorize: process.stdout.isTTY, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' });
  let rest = '';
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      const lines = (rest + chunk.toString()).split('\n');
      rest = lines.pop() ?? '';
      const out = lines.map((line) => {
        const formatted = line.startsWith('{') ? pretty(line) : `${line}\n`;
        return `[${name}] ${formatted}`;
      });
      done(null, out.join(''));
    },
  });
}

/**
 * Runs a package's own `dev` script, without pnpm in between (pnpm exits on SIGTERM before its
 * child has drained), in a process group of its own: Ctrl-C reaches only this script, which stops
 * the services first and the database last.
 */
function runService(name: string, dir: string, env: NodeJS.ProcessEnv): Spawned {
  const cwd = join(ROOT, dir);
  const script = (JSON.parse(readFileSync(join(cwd, 'package.json'), 'utf8')) as { scripts: { dev: string } }).scripts
    .dev;
  const path = [join(cwd, 'node_modules/.bin'), join(ROOT, 'node_modules/.bin'), process.env.PATH].join(delimiter);
  const proc = spawnTracked({
    command: 'sh',
    args: ['-c', `exec ${script}`],
    cwd,
    detached: true,
    // This script drains the services itself on Ctrl-C; the testkit only kills what outlives it.
    killOnSignal: false,
    env: { ...process.env, ...env, PATH: path },
  });
  proc.child.stdout!.pipe(prettyLines(name)).pipe(process.stdout);
  proc.child.stderr!.pipe(prettyLines(name)).pipe(process.stderr);
  return proc;
}

async function main(): Promise<void> {
  mkdirSync(DEV_DIR, { recursive: true });
  let server: LocalServer | undefined;
  let url: URL;
  if (process.env.DATABASE_URL) {
    url = readEnv(databaseVars).databaseUrl;
  } else {
    const port = await devDbPort();
    ({ url, server } = await localDatabase(port));
    console.log(`${server.description}, on 127.0.0.1:${port}`);
  }
  const migrated = await migrate(url);
  console.log(`${redactUrl(url)}: schema version ${migrated.version}`);
  await seedOnce(url);

  const apiPort = Number(process.env.PORT ?? DEFAULT_PORTS.api);
  const adminPort = Number(process.env.ADMIN_PORT ?? DEFAULT_PORTS.admin);
  const common = { DATABASE_URL: url.href, LOG_LEVEL: process.env.LOG_LEVEL ?? 'info' };
  const children: Spawned[] = [
    runService('api', 'services/api', {
      ...common,
      HOST: process.env.HOST ?? DEV_HOST,
      ADMIN_HOST: process.env.ADMIN_HOST ?? DEV_HOST,
      METRICS_HOST: process.env.METRICS_HOST ?? DEV_HOST,
      // No load balancer to leave first: a restart on save drains at once instead of serving 5 s more.
      SHUTDOWN_DELAY_MS: process.env.SHUTDOWN_DELAY_MS ?? '0',
      DB_POOL_SIZE: process.env.DB_POOL_SIZE ?? String(DEV_POOL_SIZE),
      PORT: String(apiPort),
      ADMIN_PORT: String(adminPort),
      JWT_SECRET: process.env.JWT_SECRET ?? devSecret(),
      // Uploaded images next to the dev database when no S3 is configured.
      IMAGE_DIR: process.env.IMAGE_DIR ?? join(DEV_DIR, 'images'),
    }),
    runService('warmer', 'services/warmer', {
      ...common,
      WARMER_HOST: process.env.WARMER_HOST ?? DEV_HOST,
      WARMER_TARGET: `http://127.0.0.1:${adminPort}`,
      WARMER_TARGET_PUBLIC: `http://127.0.0.1:${apiPort}`,
      WARMER_PORT: String(process.env.WARMER_PORT ?? DEFAULT_PORTS.warmer),
    }),
  ];

  // Whatever ends this script ends the services' process groups too (the testkit's exit hook).
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    // The services drain (SHUTDOWN_DELAY_MS, then in-flight requests); the database stops last.
    await Promise.all(children.map((c) => c.stop('SIGTERM', STOP_TIMEOUT_MS)));
    await server?.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());

  const readyUrl = `http://127.0.0.1:${apiPort}/health/ready`;
  try {
    await waitFor('the API ready', async () => (await fetch(readyUrl)).ok, 60_000, 250);
  } catch {
    console.error(`the API did not report ready on :${apiPort} within 60 s: see its log lines above`);
    return;
  }
  const member = seededMember(1);
  console.log(`
  mokakbab is up
    API        http://127.0.0.1:${apiPort}   (OpenAPI: http://127.0.0.1:${apiPort}/docs)
    admin      http://127.0.0.1:${adminPort}/pool   /metrics
    warmer     http://127.0.0.1:${process.env.WARMER_PORT ?? DEFAULT_PORTS.warmer}/status
    database   ${redactUrl(url)}

  try:
    curl -s 'http://127.0.0.1:${apiPort}/articles?limit=2'
    curl -s -X POST http://127.0.0.1:${apiPort}/auth/sign-in -H 'content-type: application/json' \\
      -d '{"email":"${member.email}","password":"${member.password}"}'
`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
