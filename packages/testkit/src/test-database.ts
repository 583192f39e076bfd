// The test harness: a fresh, migrated database on a real server for each test file. It uses the
// server in TEST_DATABASE_URL (one per `pnpm test` run) or starts a throwaway one.
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { connectionOptions } from '@mokakbab/config';
import { migrate, seed, type SeedCounts, type SeedResult } from '@mokakbab/db';
import { startMysqlServer, type MysqlServer, type ServerOptions } from './server.js';
import { waitFor } from './wait.js';

export const TEST_DATABASE_URL_VAR = 'TEST_DATABASE_URL';

export interface TestDatabaseOptions {
  /** Start a dedicated server with these options (e.g. `{ max_connections: 20 }`) instead of the shared one. */
  readonly serverOptions?: ServerOptions;
  /** Run the migrations (default true). */
  readonly migrate?: boolean;
}

export interface TestDatabase {
  /** mysql://root@127.0.0.1:PORT/t_xxx — give it to the code under test as DATABASE_URL. */
  readonly url: URL;
  readonly name: string;
  /** The server when this harness started one (dedicated or throwaway), else undefined. */
  readonly server: MysqlServer | undefined;
  /** Runs SQL over the harness's own connection (reconnects if it was killed). */
  query<T = mysql.RowDataPacket[]>(sql: string, params?: unknown[]): Promise<T>;
  seed(counts: Omit<SeedCounts, 'passwordCost'> & { passwordCost?: number }): Promise<SeedResult>;
  /** Connections to this database on the server, not counting the harness's own. */
  serverConnections(): Promise<number>;
  /** KILLs every connection to this database except the harness's own, waits until they are gone; returns how many. */
  killConnections(): Promise<number>;
  /** Drops the database and stops a server this harness started. */
  close(): Promise<void>;
}

function serverUrlFromEnv(): URL | undefined {
  const raw = process.env[TEST_DATABASE_URL_VAR];
  return raw ? new URL(raw) : undefined;
}

export async function createTestDatabase(opts: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const shared = opts.serverOptions ? undefined : serverUrlFromEnv();
  const server = shared
    ? undefined
    : await startMysqlServer({ ...(opts.serverOptions ? { options: opts.serverOptions } : {}) });
  const serverUrl = shared ?? server!.url;
  const name = `t_${process.pid}_${randomBytes(4).toString('hex')}`;
  const url = new URL(serverUrl.href);
  url.pathname = `/${name}`;

  const root = await mysql.createConnection({ ...connectionOptions(serverUrl), database: undefined });
  try {
    await root.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  } finally {
    await root.end();
  }
  if (opts.migrate !== false) await migrate(url);

  let admin: mysql.Connection | undefined;
  const connection = async (): Promise<mysql.Connection> => {
    if (!admin) {
      const conn = await mysql.createConnection(connectionOptions(url));
      // A killed or timed-out connection is replaced on the next call.
      conn.on('error', () => {
        if (admin === conn) admin = undefined;
      });
      admin = conn;
    }
    return admin;
  };
  const query = async <T>(sql: string, params?: unknown[]): Promise<T> => {
    const conn = await connection();
    try {
      const [rows] = await conn.query(sql, params);
      return rows as T;
    } catch (err) {
      if ((err as { fatal?: boolean }).fatal) admin = undefined;
      throw err;
    }
  };
  const otherConnectionIds = async (): Promise<number[]> => {
    const rows = await query<mysql.RowDataPacket[]>(
      'SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()',
      [name],
    );
    return rows.map((r) => Number(r.id));
  };

  return {
    url,
    name,
    server,
    query,
    seed: (counts) => seed(url, counts),
    serverConnections: async () => (await otherConnectionIds()).length,
    async killConnections() {
      const ids = await otherConnectionIds();
      for (const id of ids) {
        try {
          await query(`KILL CONNECTION ${Number(id)}`);
        } catch (err) {
          // The connection may have closed between listing and killing (ER_NO_SUCH_THREAD).
          if ((err as { errno?: number }).errno !== 1094) throw err;
        }
      }
      // KILL returns before the killed thread has left the process list; callers count on them gone.
      await waitFor(`the ${ids.length} killed connections to leave the process list`, async () => {
        const left = await otherConnectionIds();
        return ids.some((id) => left.includes(id)) ? undefined : true;
      });
      return ids.length;
    },
    async close() {
      await admin?.end().catch(() => undefined);
      admin = undefined;
      if (server) {
        await server.stop();
        return;
      }
      const conn = await mysql.createConnection({ ...connectionOptions(serverUrl), database: undefined });
      try {
        await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
      } finally {
        await conn.end();
      }
    },
  };
}
