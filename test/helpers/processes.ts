// Real API and warmer processes for the cross-service tests: spawn with an env, wait for the
// `listening` log line, read the real ports from it, stop, and restart on the SAME ports.
import { resolve } from 'node:path';
import { getJson, spawnService as testkitSpawnService, type LogLine, type ServiceProcess } from '@mokakbab/testkit';
import type { TargetStatus, WarmerStatus } from '@mokakbab/warmer';

const ROOT = resolve(import.meta.dirname, '../..');
export const API_ENTRY = 'services/api/src/server.ts';
export const WARMER_ENTRY = 'services/warmer/src/main.ts';
export const TEST_JWT_SECRET = 'warmer-tests-jwt-secret-0123456789abcdef';

/** Spawns `node --conditions=source --import tsx <entry>` from the repo root with `env` on top of ours. */
export const spawnService = (entry: string, env: Record<string, string>): ServiceProcess =>
  testkitSpawnService(entry, { LOG_LEVEL: 'info', ...env }, { cwd: ROOT });

export type { LogLine, ServiceProcess };

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
  const code = await proc.exitWithin(timeoutMs);
  return { code, stderr: proc.stderr() };
}
