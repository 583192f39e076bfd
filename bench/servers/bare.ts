// The ceiling: the API's own read statements through a bare mysql2 pool of the same size in a tiny
// node:http server, no framework, no validation, no auth, rows serialised as they come. What the API
// adds on top of this is its overhead. Env: PORT, DATABASE_URL, DATABASE_CA, DB_POOL_SIZE.
import { createServer } from 'node:http';
import mysql from 'mysql2/promise';
import { connectionOptions } from '@mokakbab/config';
import { READ_ROUTES, type ReadRoute } from '../lib/read-routes.js';

const size = Number(process.env.DB_POOL_SIZE);
const pool = mysql.createPool({
  ...connectionOptions(new URL(process.env.DATABASE_URL!), process.env.DATABASE_CA),
  connectionLimit: size,
  maxIdle: size,
});
// Full before the port opens, as the API's warm pool is.
const held = await Promise.all(Array.from({ length: size }, () => pool.getConnection()));
await Promise.all(held.map((conn) => conn.query("SET time_zone = '+00:00'")));
for (const conn of held) conn.release();

const routes: readonly [RegExp, ReadRoute][] = READ_ROUTES.map((route) => [route.pattern, route]);

const server = createServer((req, res) => {
  const url = req.url ?? '/';
  if (url === '/health/live') {
    res.end('{"status":"live"}');
    return;
  }
  for (const [pattern, route] of routes) {
    const match = pattern.exec(url);
    if (!match) continue;
    pool.query(route.sql, route.params(Number(match[1]))).then(
      ([rows]) => {
        res.setHeader('content-type', 'application/json; charset=utf-8');
        res.end(JSON.stringify(rows));
      },
      (err: unknown) => {
        res.statusCode = 503;
        res.end(JSON.stringify({ error: String(err) }));
      },
    );
    return;
  }
  res.statusCode = 404;
  res.end();
});
server.keepAliveTimeout = 72_000;
server.listen(Number(process.env.PORT), '127.0.0.1');
process.once('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  void pool.end().finally(() => process.exit(0));
});
