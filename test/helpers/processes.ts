// Real API and warmer processes for the cross-service tests: spawn with an env, wait for the
// `listening` log line, read the real ports from it, stop, and restart on the SAME ports.
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { getJson } from './wait.js';
import type { TargetStatus, WarmerStatus } from '@mokakbab/warmer';

const ROOT = resolve(import.meta.dirname, '../..');
export const API_ENTRY = 'services/api/src/server.ts';
export const WARMER_ENTRY = 'services/warmer/src/main.ts';
export const TEST_JWT_SECRET = 'warmer-tests-jwt-secret-0123456789abcdef';

export type LogLine = Record<string, unknown> & { msg?: string };

export interface ServiceProcess {
  readonly child: ChildProcess;
  readonly env: Record<string, string>;
  readonly logs: LogLine[];
  stderr(): string;
  /** Resolves with the exit code (or the signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
  waitForLog(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Sends `signal`, waits (bounded) for the exit, then SIGKILLs. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | string>;
}

// An interrupted run must not leave APIs or warmers behind: 'exit' does not fire on a signal, so the
// signals kill the children too, then the signal goes on (re-raised when no other handler is left).
const running = new Set<ChildProcess>();
function killAll(): void {
  for (const child of running) child.kill('SIGKILL');
}
process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    killAll();
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  });
}

/** Spawns `node --conditions=source --import tsx <entry>` from the repo root with `env` on top of ours. */
export function spawnService(entry: string, env: Record<string, string>): ServiceProcess {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', entry], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const logs: LogLine[] = [];
  const waiters = new Set<() => void>();
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      logs.push(JSON.parse(line) as LogLine);
    } catch {
      logs.push({ msg: line });
    }
    for (const wake of waiters) wake();
  });
  const exited = new Promise<number | string>((done) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      for (const wake of waiters) wake();
      done(code ?? signal ?? 'unknown');
    });
  });
  const hasExited = () => child.exitCode !== null || child.signalCode !== null;

  return {
    child,
    env,
    logs,
    stderr: () => stderr,
    exited,
    waitForLog(match, timeoutMs = 30_000) {
      return new Promise((done, fail) => {
        let seen = 0;
        const check = () => {
          for (; seen < logs.length; seen++) {
            if (match(logs[seen]!)) return finish(() => done(logs[seen]!));
          }
          if (hasExited())
            finish(() => fail(new Error(`${entry} exited before the expected log line:\n${stderr.slice(-2000)}`)));
        };
        const timer = setTimeout(
          () =>
            finish(() =>
              fail(new Error(`${entry}: no expected log line within ${timeoutMs} ms:\n${stderr.slice(-2000)}`)),
            ),
          timeoutMs,
        );
        const finish = (settle: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          settle();
        };
        waiters.add(check);
        check();
      });
    },
    async stop(signal = 'SIGTERM', timeoutMs = 15_000) {
      if (!hasExited()) {
        child.kill(signal);
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        await exited;
        clearTimeout(timer);
      }
      return exited;
    },
  };
}

export interface ApiProcess extends ServiceProcess {
  readonly port: number;
  readonly adminPort: number;
  /** http://host:port of the public and admin ports. */
  readonly url: string;
  readonly adminUrl: string;
  /** With METRICS_PORT in `env`: the metrics-only port (on METRICS_HOST, 0.0.0.0 unless set). */
  readonly metricsPort?: number;
}

export interface ApiOptions {
  databaseUrl: URL | string;
  host?: string;
  /** 0 (the default) picks a free port; pass the old ports to restart on the same ones. */
  port?: number;
  adminPort?: number;
  env?: Record<string, string>;
}

/** Starts the API from source with WARM_ON_BOOT=false (the warmer's job) unless `env` says otherwise. */
export async function startApi(opts: ApiOptions): Promise<ApiProcess> {
  const host = opts.host ?? '127.0.0.1';
  const env = {
    DATABASE_URL: String(opts.databaseUrl),
    JWT_SECRET: TEST_JWT_SECRET,
    HOST: host,
    ADMIN_HOST: host,
    PORT: String(opts.port ?? 0),
    ADMIN_PORT: String(opts.adminPort ?? 0),
    WARM_ON_BOOT: 'false',
    DB_POOL_SIZE: '10',
    SHUTDOWN_DELAY_MS: '0',
    ...opts.env,
  };
  const proc = spawnService(API_ENTRY, env);
  try {
    const line = await proc.waitForLog((l) => l.msg === 'listening', 60_000);
    const port = Number(line.port);
    const adminPort = Number(line.adminPort);
    const metricsPort = line.metricsPort === undefined ? undefined : Number(line.metricsPort);
    const urls = { url: `http://${host}:${port}`, adminUrl: `http://${host}:${adminPort}` };
    return { ...proc, port, adminPort, metricsPort, ...urls };
  } catch (err) {
    await proc.stop('SIGKILL');
    throw err;
  }
}

/** Kills an API (SIGKILL: a crash, nothing drained) and starts it again on the same host and ports. */
export async function restartApi(api: ApiProcess): Promise<ApiProcess> {
  await api.stop('SIGKILL');
  return startApi({
    databaseUrl: api.env.DATABASE_URL!,
    host: api.env.HOST!,
    port: api.port,
    adminPort: api.adminPort,
    env: { ...api.env, PORT: String(api.port), ADMIN_PORT: String(api.adminPort) },
  });
}

export interface WarmerProcess extends ServiceProcess {
  readonly port: number;
  readonly url: string;
  /** With WARMER_METRICS_PORT in `env`: the metrics-only port. */
  readonly metricsPort?: number;
  status(): Promise<WarmerStatusBody>;
  ready(): Promise<{ status: number; body: Record<string, unknown> }>;
}

// The warmer's own types for what /status answers: the tests read the same shape it serves.
export type TargetStatusBody = TargetStatus;
export type WarmerStatusBody = WarmerStatus;

/** Starts the warmer from source on 127.0.0.1 and a free port. */
export async function startWarmer(env: Record<string, string>): Promise<WarmerProcess> {
  const proc = spawnService(WARMER_ENTRY, {
    WARMER_HOST: '127.0.0.1',
    WARMER_PORT: '0',
    WARMER_WATCH_INTERVAL_MS: '200',
    ...env,
  });
  try {
    const line = await proc.waitForLog((l) => l.msg === 'listening', 60_000);
    const port = Number(line.port);
    const url = `http://127.0.0.1:${port}`;
    return {
      ...proc,
      port,
      url,
      metricsPort: line.metricsPort === undefined ? undefined : Number(line.metricsPort),
      status: async () => (await getJson<WarmerStatusBody>(`${url}/status`)).body,
      ready: () => getJson(`${url}/ready`),
    };
  } catch (err) {
    await proc.stop('SIGKILL');
    throw err;
  }
}

/** Runs the warmer with `env` and waits (bounded) for it to exit by itself, e.g. on bad config. */
export async function runWarmerToExit(
  env: Record<string, string>,
  timeoutMs = 30_000,
): Promise<{ code: number | string; stderr: string }> {
  const proc = spawnService(WARMER_ENTRY, { WARMER_HOST: '127.0.0.1', WARMER_PORT: '0', ...env });
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), timeoutMs);
  const code = await proc.exited;
  clearTimeout(timer);
  return { code, stderr: proc.stderr() };
}
