// The bench's database: one MariaDB/MySQL server on a data dir under .bench/ that is seeded once at
// the profile's size and reused while the schema and the seed parameters are the same (the stamp).
// It starts the way the original deployment ran: verified TLS required (a CA and certificate made
// for this start), max_connections 500, thread_cache_size 8.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';
import { connectionOptions } from '@mokakbab/config';
import { MIGRATIONS_DIR, migrate, seed } from '@mokakbab/db';
import { startMysqlServer, type MysqlServer } from '@mokakbab/testkit';
import type { Profile } from './args.js';

export const BENCH_DIR = fileURLToPath(new URL('../../.bench/', import.meta.url));
const DATABASE = 'bench';
const SETTLE_TIMEOUT_MS = 30_000;
export const SERVER_OPTIONS = {
  max_connections: 500,
  thread_cache_size: 8,
  // The whole data set in memory: the bench measures the API, not the disk.
  innodb_buffer_pool_size: '1G',
} as const;

export interface BenchDatabase {
  readonly server: MysqlServer;
  /** mysql://root@127.0.0.1:PORT/bench?ssl=true; clients also need `ca`. */
  readonly url: URL;
  /** The CA certificate (PEM): DATABASE_CA of every client. */
  readonly ca: string;
  query<T = mysql.RowDataPacket[]>(sql: string, params?: unknown[]): Promise<T>;
  /**
   * Waits (bounded) until no statement of a previous arm is still running on the server, so slow
   * leftovers of one arm do not load the next.
   */
  settle(): Promise<void>;
  /** Aborted_connects and Connection_errors_% (the server's connect failures) right now. */
  connectErrors(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

/** Names the data: migration files and seed counts. A change in either means a new seed. */
export function dataStamp(profile: Profile, migrationFiles: readonly string[]): string {
  const what = JSON.stringify({ migrations: [...migrationFiles].sort(), seed: profile.seed });
  return createHash('sha256').update(what).digest('hex').slice(0, 12);
}

export async function openBenchDatabase(profile: Profile, log: (line: string) => void): Promise<BenchDatabase> {
  const stamp = dataStamp(
    profile,
    readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql')),
  );
  const dir = join(BENCH_DIR, `${profile.name}-${stamp}`);
  mkdirSync(BENCH_DIR, { recursive: true });
  // Data of an older schema or seed is never reused: delete it.
  for (const entry of readdirSync(BENCH_DIR)) {
    if (entry.startsWith(`${profile.name}-`) && entry !== `${profile.name}-${stamp}`) {
      rmSync(join(BENCH_DIR, entry), { recursive: true, force: true });
    }
  }
  const seededFile = join(dir, 'seeded.json');
  const server = await startMysqlServer({ dataDir: dir, tls: true, options: SERVER_OPTIONS });
  const ca = server.ca!;
  const url = new URL(server.url.href);
  url.pathname = `/${DATABASE}`;
  const conn = await mysql.createConnection(connectionOptions(server.url, ca));
  try {
    if (!existsSync(seededFile)) {
      log(`seeding ${JSON.stringify(profile.seed)} into ${dir} (once; reused while the schema matches) ...`);
      // A seed interrupted half-way left rows behind: start from an empty database.
      await conn.query(`DROP DATABASE IF EXISTS \`${DATABASE}\``);
      await conn.query(`CREATE DATABASE \`${DATABASE}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
      await migrate(url, 'max', ca);
      const result = await seed(url, profile.seed, ca);
      await conn.query(`ANALYZE TABLE \`${DATABASE}\`.article, \`${DATABASE}\`.participation, \`${DATABASE}\`.member`);
      writeFileSync(seededFile, JSON.stringify({ stamp, ...result }, null, 2));
      log(`seeded in ${(result.ms / 1000).toFixed(1)} s`);
    } else {
      log(`reusing ${dir} (${readFileSync(seededFile, 'utf8').replace(/\s+/g, ' ')})`);
    }
  } catch (err) {
    await conn.end().catch(() => undefined);
    await server.stop();
    throw err;
  }
  await conn.query(`USE \`${DATABASE}\``);
  const query = async <T>(sql: string, params?: unknown[]): Promise<T> => {
    const [rows] = await conn.query(sql, params);
    return rows as T;
  };
  return {
    server,
    url,
    ca,
    query,
    async settle() {
      const deadline = Date.now() + SETTLE_TIMEOUT_MS;
      while (Date.now() < deadline) {
        const [row] = await query<{ running: number }[]>(
          "SELECT COUNT(*) AS running FROM information_schema.PROCESSLIST WHERE COMMAND = 'Query' AND ID <> CONNECTION_ID()",
        );
        if (Number(row!.running) === 0) return;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    async connectErrors() {
      const rows = await query<{ Variable_name: string; Value: string }[]>(
        "SHOW GLOBAL STATUS WHERE Variable_name = 'Aborted_connects' OR Variable_name LIKE 'Connection\\_errors\\_%'",
      );
      return Object.fromEntries(rows.map((r) => [r.Variable_name, Number(r.Value)]));
    },
    async close() {
      await conn.end().catch(() => undefined);
      await server.stop();
    },
  };
}

/** `after - before` per counter, keeping only those that moved (and Aborted_connects always). */
export function counterDeltas(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, value] of Object.entries(after)) {
    const delta = value - (before[name] ?? 0);
    if (delta !== 0 || name === 'Aborted_connects') out[name] = delta;
  }
  return out;
}
