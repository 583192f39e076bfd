// Shared by the fault tests: a database server this test owns (so it can be SIGKILLed, SIGSTOPped
// and restarted on the same data dir and port), and a bounded closed-loop load that records every
// response's status and latency.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import mysql from 'mysql2/promise';
import { Pool } from 'undici';
import { connectionOptions } from '@mokakbab/config';
import { migrate, seed, type SeedCounts } from '@mokakbab/db';
import { startMysqlServer, type MysqlServer, type ServerOptions } from '@mokakbab/testkit';

export interface FaultServer {
  /** The migrated, seeded database: DATABASE_URL for the API. */
  readonly url: URL;
  readonly server: MysqlServer;
  /** SIGKILLs the server (a crash: nothing flushed, sockets reset) and waits for it to exit. */
  kill(): Promise<void>;
  /** Starts the server again on the same data dir and port; resolves once it accepts connections. */
  restart(): Promise<void>;
  query<T>(sql: string, params?: unknown[]): Promise<T>;
  close(): Promise<void>;
}

const DB_NAME = 'reliability';

export async function startFaultServer(
  counts: Omit<SeedCounts, 'passwordCost'>,
  options: ServerOptions = {},
): Promise<FaultServer> {
  // A data dir of our own (not the harness's temporary one), so a restart finds the same data.
  const dir = mkdtempSync(join(tmpdir(), 'mokakbab-faults-'));
  let server = await startMysqlServer({ dataDir: dir, options });
  const port = server.port;
  const root = await mysql.createConnection(connectionOptions(server.url));
  await root.query(`CREATE DATABASE ${DB_NAME} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await root.end();
  const url = new URL(server.url.href);
  url.pathname = `/${DB_NAME}`;
  await migrate(url);
  await seed(url, counts);
  const exited = (pid: number) =>
    new Promise<void>((resolve) => {
      const poll = () => {
        try {
          process.kill(pid, 0);
          setTimeout(poll, 20);
        } catch {
          resolve();
        }
      };
      poll();
    });
  return {
    url,
    get server() {
      return server;
    },
    async kill() {
      process.kill(server.pid, 'SIGKILL');
      await exited(server.pid);
    },
    async restart() {
      server = await startMysqlServer({ dataDir: dir, port, options });
    },
    async query<T>(sql: string, params?: unknown[]): Promise<T> {
      const conn = await mysql.createConnection(connectionOptions(url));
      try {
        return (await conn.query(sql, params))[0] as T;
      } finally {
        await conn.end();
      }
    },
    async close() {
      try {
        process.kill(server.pid, 'SIGCONT');
      } catch {
        // already gone
      }
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Sample {
  /** performance.now() when the request was sent. */
  at: number;
  ms: number;
  status: number;
  retryAfter: string | undefined;
  code: string | undefined;
}

export interface LoadOptions {
  origin: string;
  path: string | (() => string);
  method?: 'GET' | 'DELETE';
  headers?: Record<string, string>;
  workers: number;
  /** Stops sending once this returns true (checked before each request). */
  stop: () => boolean;
  /** Client-side bound of one request; a request cut off here is recorded with status 0. */
  timeoutMs?: number;
  /** Pause of each worker between two requests: instant 503s would otherwise spin the CPU. */
  pauseMs?: number;
}

/** `workers` loops, each sending the next request when the last one answered. */
export async function closedLoop(opts: LoadOptions): Promise<Sample[]> {
  const pool = new Pool(opts.origin, {
    connections: opts.workers,
    headersTimeout: opts.timeoutMs ?? 15_000,
    bodyTimeout: opts.timeoutMs ?? 15_000,
  });
  const samples: Sample[] = [];
  const path = typeof opts.path === 'string' ? () => opts.path as string : opts.path;
  const worker = async () => {
    while (!opts.stop()) {
      samples.push(await send(pool, opts.method ?? 'GET', path(), opts.headers));
      if (opts.pauseMs) await new Promise((resolve) => setTimeout(resolve, opts.pauseMs));
    }
  };
  try {
    await Promise.all(Array.from({ length: opts.workers }, worker));
  } finally {
    await pool.close();
  }
  return samples;
}

export async function send(
  pool: Pool,
  method: 'GET' | 'DELETE',
  path: string,
  headers: Record<string, string> = {},
): Promise<Sample> {
  const at = performance.now();
  try {
    const res = await pool.request({ method, path, headers });
    const text = await res.body.text();
    let code: string | undefined;
    if (res.statusCode >= 400) code = (JSON.parse(text) as { code?: string }).code;
    const retryAfter = res.headers['retry-after'];
    return {
      at,
      ms: performance.now() - at,
      status: res.statusCode,
      retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined,
      code,
    };
  } catch (err) {
    return { at, ms: performance.now() - at, status: 0, retryAfter: undefined, code: (err as Error).name };
  }
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Counts by status, e.g. `{ 200: 812, 503: 40 }`, for assertion messages. */
export function byStatus(samples: Sample[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const s of samples) counts[s.status] = (counts[s.status] ?? 0) + 1;
  return counts;
}
