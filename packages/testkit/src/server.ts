// A real MySQL-compatible server as a child process: its own data dir, a free loopback port, no
// system config. Used by the test harness and by `pnpm dev` (there with a data dir that persists).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import mysql from 'mysql2/promise';
import { generateTls } from './tls.js';

export type ServerOptions = Readonly<Record<string, string | number | boolean>>;

export interface StartServerOptions {
  /** Data directory; created and initialised when empty. Default: a new temp dir, deleted on stop. */
  readonly dataDir?: string;
  /** Default: a free port. */
  readonly port?: number;
  /** Extra server options, e.g. `{ max_connections: 20, wait_timeout: 5 }`. */
  readonly options?: ServerOptions;
  /** How long to wait for the server to accept connections. */
  readonly startTimeoutMs?: number;
  /**
   * Require verified TLS (`require_secure_transport=ON`) with a CA and certificate made for this
   * start; `url` then carries `?ssl=true` and clients need `ca` (DATABASE_CA).
   */
  readonly tls?: boolean;
}

export interface MysqlServer {
  /** `mysql://root@127.0.0.1:PORT/mysql`: root without a password, for creating databases. */
  readonly url: URL;
  readonly port: number;
  readonly dataDir: string;
  readonly flavor: 'mariadb' | 'mysql';
  readonly pid: number;
  /** The CA certificate (PEM) when started with `tls`. */
  readonly ca: string | undefined;
  /** Stops the server (SIGTERM, then SIGKILL) and deletes a temporary data dir. */
  stop(): Promise<void>;
}

const CANDIDATES = ['mariadbd', 'mysqld'];
const EXTRA_DIRS = ['/usr/sbin', '/usr/local/sbin', '/usr/local/mysql/bin', '/opt/homebrew/sbin', '/opt/homebrew/bin'];

export class NoServerBinaryError extends Error {
  constructor() {
    super(
      'No MySQL-compatible server binary (mariadbd or mysqld) was found on PATH or in /usr/sbin.\n' +
        'Install one, or set DATABASE_URL to a server you have:\n' +
        '  Debian/Ubuntu: sudo apt-get install -y mariadb-server   (nothing else to configure)\n' +
        '  macOS:         brew install mariadb\n' +
        '  Docker:        docker run -d -p 3306:3306 -e MYSQL_ALLOW_EMPTY_PASSWORD=1 -e MYSQL_DATABASE=mokakbab mysql:8.4\n' +
        '                 then DATABASE_URL=mysql://root@127.0.0.1:3306/mokakbab',
    );
    this.name = 'NoServerBinaryError';
  }
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The server binary to run: MYSQLD if set, else mariadbd or mysqld from PATH or the usual sbin dirs. */
export function findServerBinary(): string | undefined {
  if (process.env.MYSQLD) return process.env.MYSQLD;
  const dirs = [...(process.env.PATH ?? '').split(delimiter), ...EXTRA_DIRS].filter(Boolean);
  for (const name of CANDIDATES) {
    for (const dir of dirs) {
      const path = join(dir, name);
      if (isExecutable(path)) return path;
    }
  }
  return undefined;
}

function flavorOf(binary: string): 'mariadb' | 'mysql' {
  const out = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  return /mariadb/i.test(`${out.stdout}${out.stderr}`) ? 'mariadb' : 'mysql';
}

// Each server gets its own tmpdir: concurrent bootstraps sharing /tmp can collide on temp table names.
function initialise(binary: string, flavor: 'mariadb' | 'mysql', dataDir: string, tmpDir: string): void {
  mkdirSync(dataDir, { recursive: true });
  mkdirSync(tmpDir, { recursive: true });
  const asRoot = process.getuid?.() === 0 ? ['--user=root'] : [];
  const result =
    flavor === 'mariadb'
      ? spawnSync(
          findOnPath(['mariadb-install-db', 'mysql_install_db']) ?? 'mariadb-install-db',
          [
            '--no-defaults',
            `--datadir=${dataDir}`,
            '--auth-root-authentication-method=normal',
            '--skip-test-db',
            '--skip-name-resolve',
            `--tmpdir=${tmpDir}`,
            ...asRoot,
          ],
          { encoding: 'utf8' },
        )
      : spawnSync(
          binary,
          ['--no-defaults', '--initialize-insecure', `--datadir=${dataDir}`, `--tmpdir=${tmpDir}`, ...asRoot],
          {
            encoding: 'utf8',
          },
        );
  if (result.status !== 0) {
    throw new Error(`initialising ${dataDir} failed (exit ${result.status}):\n${result.stderr || result.stdout}`);
  }
}

function findOnPath(names: string[]): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), ...EXTRA_DIRS].filter(Boolean);
  for (const name of names) for (const dir of dirs) if (isExecutable(join(dir, name))) return join(dir, name);
  return undefined;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Running throwaway servers, with their data dirs. */
const temporary = new Map<ChildProcess, string>();
const persistent = new Set<ChildProcess>();
let exitHookInstalled = false;
let signalHookInstalled = false;

function killTemporary(): void {
  for (const [child, dir] of temporary) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
  temporary.clear();
}

// A process that exits without stopping its servers must not leave them behind: throwaway ones are
// killed and deleted; a persistent one (pnpm dev) gets SIGTERM, so its data is shut down cleanly.
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    killTemporary();
    for (const child of persistent) child.kill('SIGTERM');
  });
}

// An interrupted test run must not leave throwaway servers behind either. Only installed for
// throwaway servers: a program with a persistent server (pnpm dev) handles its own signals and
// stops the server last.
function installSignalHook(): void {
  if (signalHookInstalled) return;
  signalHookInstalled = true;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killTemporary();
      process.kill(process.pid, signal);
    });
  }
}

async function waitUntilAccepting(
  url: URL,
  ca: string | undefined,
  child: ChildProcess,
  logFile: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const log = existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n') : '';
      throw new Error(`the database server exited during start (code ${child.exitCode}):\n${log}`);
    }
    try {
      const conn = await mysql.createConnection({
        host: url.hostname,
        port: Number(url.port),
        user: 'root',
        ...(ca === undefined ? {} : { ssl: { ca, rejectUnauthorized: true } }),
      });
      await conn.end();
      return;
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`the database server did not accept connections within ${timeoutMs} ms: ${String(lastError)}`);
}

export async function startMysqlServer(opts: StartServerOptions = {}): Promise<MysqlServer> {
  const binary = findServerBinary();
  if (!binary) throw new NoServerBinaryError();
  const flavor = flavorOf(binary);
  installExitHook();
  const isTemporary = opts.dataDir === undefined;
  if (isTemporary) installSignalHook();
  const baseDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'mokakbab-db-'));
  const dataDir = join(baseDir, 'data');
  const tmpDir = join(baseDir, 'tmp');
  if (!existsSync(join(dataDir, 'mysql'))) initialise(binary, flavor, dataDir, tmpDir);
  mkdirSync(tmpDir, { recursive: true });
  const port = opts.port ?? (await freePort());
  const logFile = join(baseDir, 'server.log');
  const tls = opts.tls ? generateTls(join(baseDir, 'tls')) : undefined;
  const args = [
    '--no-defaults',
    `--datadir=${dataDir}`,
    `--port=${port}`,
    '--bind-address=127.0.0.1',
    `--socket=${join(baseDir, 'mysqld.sock')}`,
    `--pid-file=${join(baseDir, 'mysqld.pid')}`,
    `--log-error=${logFile}`,
    `--tmpdir=${tmpDir}`,
    '--skip-name-resolve',
    '--character-set-server=utf8mb4',
    '--collation-server=utf8mb4_unicode_ci',
    '--innodb-buffer-pool-size=128M',
    // Throwaway data: trade durability for speed.
    '--innodb-flush-log-at-trx-commit=2',
    ...(flavor === 'mysql' ? ['--disable-log-bin', '--mysqlx=OFF'] : ['--skip-log-bin']),
    ...(process.getuid?.() === 0 ? ['--user=root'] : []),
    ...(tls
      ? [
          `--ssl-ca=${tls.caFile}`,
          `--ssl-cert=${tls.certFile}`,
          `--ssl-key=${tls.keyFile}`,
          '--require-secure-transport=ON',
        ]
      : []),
    ...Object.entries(opts.options ?? {}).map(([k, v]) => `--${k.replaceAll('_', '-')}=${v}`),
  ];
  const child = spawn(binary, args, { stdio: 'ignore' });
  if (isTemporary) temporary.set(child, baseDir);
  else persistent.add(child);
  const forget = () => {
    temporary.delete(child);
    persistent.delete(child);
    if (isTemporary) rmSync(baseDir, { recursive: true, force: true });
  };
  const url = new URL(`mysql://root@127.0.0.1:${port}/mysql${tls ? '?ssl=true' : ''}`);
  try {
    await waitUntilAccepting(url, tls?.caPem, child, logFile, opts.startTimeoutMs ?? 60_000);
  } catch (err) {
    child.kill('SIGKILL');
    forget();
    throw err;
  }
  return {
    url,
    port,
    dataDir: baseDir,
    flavor,
    pid: child.pid!,
    ca: tls?.caPem,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      forget();
    },
  };
}
