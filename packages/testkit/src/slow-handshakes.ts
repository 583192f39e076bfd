// Makes every new connection of an app user take `delayMs` on a DEDICATED server (init_connect is
// server-wide), so a warm-up lasts long enough that overlapping or serial warm-ups are observable.
// init_connect runs at login for users without SUPER/CONNECTION ADMIN, so root stays fast.
import type { TestDatabase } from './test-database.js';

export async function slowHandshakes(db: TestDatabase, delayMs: number): Promise<URL> {
  if (!db.server) throw new Error('slowHandshakes needs a dedicated server (createTestDatabase({ serverOptions }))');
  await db.query("CREATE USER IF NOT EXISTS 'app'@'%' IDENTIFIED BY 'app'");
  await db.query(`GRANT ALL PRIVILEGES ON \`${db.name}\`.* TO 'app'@'%'`);
  await db.query(`SET GLOBAL init_connect = 'DO SLEEP(${(delayMs / 1000).toFixed(3)})'`);
  const url = new URL(db.url.href);
  url.username = 'app';
  url.password = 'app';
  return url;
}
