import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';
import Postgrator from 'postgrator';
import { connectionOptions } from '@mokakbab/config';

/** Numbered SQL files (`NNN.do.name.sql` / `NNN.undo.name.sql`), shared by src/ and dist/. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations/', import.meta.url));

export interface MigrateResult {
  readonly applied: readonly string[];
  readonly version: number;
}

/** Brings the database named in `url` to the latest schema version; `ca` is DATABASE_CA. */
export async function migrate(url: URL, target = 'max', ca?: string): Promise<MigrateResult> {
  const conn = await mysql.createConnection({ ...connectionOptions(url, ca), multipleStatements: true });
  try {
    const database = decodeURIComponent(url.pathname.slice(1));
    const postgrator = new Postgrator({
      migrationPattern: `${MIGRATIONS_DIR}*.sql`,
      driver: 'mysql',
      database,
      schemaTable: 'schema_version',
      execQuery: async (query: string) => {
        const [rows] = await conn.query(query);
        return { rows: Array.isArray(rows) ? rows : [] };
      },
    });
    const applied = await postgrator.migrate(target);
    return { applied: applied.map((m) => m.filename), version: Number(await postgrator.getDatabaseVersion()) };
  } finally {
    await conn.end();
  }
}
