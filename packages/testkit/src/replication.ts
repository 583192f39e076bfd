// Real replication on loopback for tests: a primary with a binlog and GTIDs and N replicas of it,
// each a throwaway server from startMysqlServer. The replicas follow by GTID (MariaDB
// MASTER_USE_GTID=slave_pos, MySQL SOURCE_AUTO_POSITION=1), so a replica that is killed and
// started again on its data dir resumes where it stopped.
import { execFileSync } from 'node:child_process';
import mysql from 'mysql2/promise';
import {
  findServerBinary,
  NoServerBinaryError,
  startMysqlServer,
  type MysqlServer,
  type ServerOptions,
} from './server.js';

export interface ReplicationOptions {
  /** Replicas to start (default 1). */
  readonly replicas?: number;
  /** Extra server options for every server, e.g. `{ max_connections: 100 }`. */
  readonly options?: ServerOptions;
  /** How long `start` and `waitForCatchUp` wait for a replica to apply the primary's position. */
  readonly catchUpTimeoutMs?: number;
}

export interface ReplicaServer {
  readonly server: MysqlServer;
  /** `mysql://root@127.0.0.1:PORT/<database>`, for DATABASE_REPLICA_URLS. */
  urlFor(database: string): URL;
  /** SIGKILLs the server (data dir kept), as a crash would. */
  kill(): Promise<void>;
  /** Starts it again on the same data dir and port; replication resumes from its GTID position. */
  restart(): Promise<void>;
  /** Runs SQL on the replica over a short-lived root connection. */
  readonly query: <T = mysql.RowDataPacket[]>(sql: string, params?: unknown[]) => Promise<T>;
}

export interface ReplicationSet {
  readonly primary: MysqlServer;
  readonly replicas: readonly ReplicaServer[];
  readonly flavor: 'mariadb' | 'mysql';
  /** Runs SQL on the primary over a short-lived root connection. */
  readonly query: <T = mysql.RowDataPacket[]>(sql: string, params?: unknown[]) => Promise<T>;
  /** Resolves once every running replica (or the ones given) has applied the primary's current position. */
  waitForCatchUp(replicas?: readonly ReplicaServer[]): Promise<void>;
  stop(): Promise<void>;
}

const DEFAULT_CATCH_UP_TIMEOUT_MS = 20_000;

// Server options of a replication member. log_slave_updates + gtid_strict_mode keep every server's
// GTID history identical, so any of them could be promoted; ROW images replay deterministically.
function memberOptions(flavor: 'mariadb' | 'mysql', serverId: number): ServerOptions {
  const common = { server_id: serverId, log_bin: 'binlog', binlog_format: 'ROW' };
  return flavor === 'mariadb'
    ? { ...common, log_slave_updates: 1, gtid_strict_mode: 1 }
    : { ...common, log_replica_updates: 1, gtid_mode: 'ON', enforce_gtid_consistency: 'ON' };
}

async function runOn<T>(url: URL, sql: string, params?: unknown[]): Promise<T> {
  const conn = await mysql.createConnection({ host: url.hostname, port: Number(url.port), user: 'root' });
  try {
    const [rows] = await conn.query(sql, params);
    return rows as T;
  } finally {
    await conn.end();
  }
}

/** The primary's executed position, in the form the replica's wait function takes. */
async function primaryPosition(flavor: 'mariadb' | 'mysql', primary: URL): Promise<string> {
  const sql = flavor === 'mariadb' ? 'SELECT @@GLOBAL.gtid_binlog_pos AS pos' : 'SELECT @@GLOBAL.gtid_executed AS pos';
  const [row] = await runOn<{ pos: string }[]>(primary, sql);
  return row!.pos;
}

async function waitForPosition(
  flavor: 'mariadb' | 'mysql',
  replica: URL,
  position: string,
  timeoutMs: number,
): Promise<void> {
  if (position === '') return;
  const timeoutS = timeoutMs / 1000;
  const sql =
    flavor === 'mariadb'
      ? 'SELECT MASTER_GTID_WAIT(?, ?) AS waited'
      : 'SELECT WAIT_FOR_EXECUTED_GTID_SET(?, ?) AS waited';
  const [row] = await runOn<{ waited: number }[]>(replica, sql, [position, timeoutS]);
  if (Number(row!.waited) !== 0) {
    throw new Error(`replica ${replica.port} did not reach ${position} within ${timeoutMs} ms`);
  }
}

async function follow(flavor: 'mariadb' | 'mysql', replica: URL, primaryPort: number): Promise<void> {
  if (flavor === 'mariadb') {
    await runOn(replica, 'STOP SLAVE');
    await runOn(
      replica,
      `CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=${primaryPort}, MASTER_USER='root', MASTER_PASSWORD='', MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1`,
    );
    await runOn(replica, 'START SLAVE');
  } else {
    await runOn(replica, 'STOP REPLICA');
    await runOn(
      replica,
      `CHANGE REPLICATION SOURCE TO SOURCE_HOST='127.0.0.1', SOURCE_PORT=${primaryPort}, SOURCE_USER='root', SOURCE_PASSWORD='', SOURCE_AUTO_POSITION=1, SOURCE_CONNECT_RETRY=1, GET_SOURCE_PUBLIC_KEY=1`,
    );
    await runOn(replica, 'START REPLICA');
  }
}

function withDatabase(url: URL, database: string): URL {
  const out = new URL(url.href);
  out.pathname = `/${database}`;
  return out;
}

/**
 * Starts a primary and `replicas` replicas (in parallel), points each replica at the primary and
 * waits until all of them have applied its position.
 */
export async function startReplicationSet(opts: ReplicationOptions = {}): Promise<ReplicationSet> {
  const count = opts.replicas ?? 1;
  const catchUpTimeoutMs = opts.catchUpTimeoutMs ?? DEFAULT_CATCH_UP_TIMEOUT_MS;
  const binary = findServerBinary();
  if (!binary) throw new NoServerBinaryError();
  const flavor = /mariadb/i.test(execFileSync(binary, ['--version'], { encoding: 'utf8' })) ? 'mariadb' : 'mysql';
  const started: MysqlServer[] = [];
  const start = async (serverId: number): Promise<MysqlServer> => {
    const server = await startMysqlServer({ options: { ...opts.options, ...memberOptions(flavor, serverId) } });
    started.push(server);
    return server;
  };
  try {
    return await finish(await start(1));
  } catch (err) {
    await Promise.all(started.map((s) => s.stop().catch(() => undefined)));
    throw err;
  }

  async function finish(primary: MysqlServer): Promise<ReplicationSet> {
    const servers = await Promise.all(Array.from({ length: count }, (_, i) => start(i + 2)));
    const firsts = servers;
    const replicas = servers.map((first, i): ReplicaServer => {
      let current = first;
      const replica: ReplicaServer = {
        get server() {
          return current;
        },
        urlFor: (database) => withDatabase(current.url, database),
        async kill() {
          process.kill(current.pid, 'SIGKILL');
          await waitForExit(current.pid);
        },
        async restart() {
          current = await startMysqlServer({
            dataDir: current.dataDir,
            port: current.port,
            options: { ...opts.options, ...memberOptions(flavor, i + 2) },
          });
          // A restart on the same data dir resumes replication by itself (the replica's
          // master.info survives); START is idempotent enough to make sure.
          await runOn(current.url, flavor === 'mariadb' ? 'START SLAVE' : 'START REPLICA').catch(() => undefined);
        },
        query: (sql, params) => runOn(current.url, sql, params),
      };
      return replica;
    });
    await Promise.all(replicas.map((r) => follow(flavor, r.server.url, primary.port)));
    const set: ReplicationSet = {
      primary,
      replicas,
      flavor,
      query: (sql, params) => runOn(primary.url, sql, params),
      async waitForCatchUp(which = replicas) {
        const position = await primaryPosition(flavor, primary.url);
        await Promise.all(which.map((r) => waitForPosition(flavor, r.server.url, position, catchUpTimeoutMs)));
      },
      async stop() {
        await Promise.all([primary, ...replicas.map((r) => r.server)].map((s) => s.stop().catch(() => undefined)));
        // A restarted replica runs on its first start's temp dir: stopping that first one deletes it.
        await Promise.all(firsts.map((s) => s.stop().catch(() => undefined)));
      },
    };
    await set.waitForCatchUp();
    return set;
  }
}

async function waitForExit(pid: number): Promise<void> {
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}
