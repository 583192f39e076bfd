// A throwaway server that requires verified TLS: clients with its CA get in, plain TCP and a client
// that does not know the CA are refused.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import mysql from 'mysql2/promise';
import { connectionOptions } from '@mokakbab/config';
import { startMysqlServer, type MysqlServer } from '../src/index.js';

let server: MysqlServer;
before(async () => {
  server = await startMysqlServer({ tls: true });
});
after(() => server.stop());

test('verified TLS with the CA works; plain TCP and an unknown CA are refused', async () => {
  assert.equal(server.url.searchParams.get('ssl'), 'true');
  const conn = await mysql.createConnection(connectionOptions(server.url, server.ca));
  try {
    const [rows] = await conn.query<mysql.RowDataPacket[]>(
      "SELECT @@require_secure_transport AS required, (SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'Ssl_version') AS version",
    );
    assert.equal(Number(rows[0]!.required), 1);
    assert.match(String(rows[0]!.version), /^TLS/);
  } finally {
    await conn.end();
  }
  const plain = new URL(server.url.href);
  plain.search = '';
  // MariaDB answers a plain login with "Access denied", MySQL with "insecure transport are prohibited".
  await assert.rejects(mysql.createConnection(connectionOptions(plain)), /insecure transport|Access denied/);
  // Node's own roots do not include the run's CA.
  await assert.rejects(mysql.createConnection(connectionOptions(server.url)), /self.signed|certificate/i);
});
