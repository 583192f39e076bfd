import mysql from 'mysql2/promise';
import { connectionOptions } from './mysql-url.js';

export interface ServerLimits {
  readonly maxConnections: number;
  readonly waitTimeoutS: number;
  readonly version: string;
}

/** Reads the limits the pool plan depends on from a live server, over one short-lived connection. */
export async function readServerLimits(url: URL, connectTimeoutMs = 5_000, ca?: string): Promise<ServerLimits> {
  const conn = await mysql.createConnection({ ...connectionOptions(url, ca), connectTimeout: connectTimeoutMs });
  try {
    const [rows] = await conn.query<mysql.RowDataPacket[]>(
      'SELECT @@max_connections AS maxConnections, @@wait_timeout AS waitTimeoutS, VERSION() AS version',
    );
    const row = rows[0]!;
    return {
      maxConnections: Number(row.maxConnections),
      waitTimeoutS: Number(row.waitTimeoutS),
      version: String(row.version),
    };
  } finally {
    await conn.end();
  }
}
