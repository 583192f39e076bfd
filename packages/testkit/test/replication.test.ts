import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { migrate } from '@mokakbab/db';
import { startReplicationSet, type ReplicationSet } from '../src/index.js';

describe('a primary and two replicas on loopback (binlog + GTID)', () => {
  let set: ReplicationSet;
  before(async () => {
    set = await startReplicationSet({ replicas: 2 });
  });
  after(() => set?.stop());

  test('migrations and rows on the primary reach every replica', async () => {
    await set.query('CREATE DATABASE repl_h');
    const url = new URL(set.primary.url.href);
    url.pathname = '/repl_h';
    await migrate(url);
    await set.query("INSERT INTO repl_h.region (name) VALUES ('r1'), ('r2')");
    await set.waitForCatchUp();
    for (const replica of set.replicas) {
      const [row] = await replica.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM repl_h.region');
      assert.equal(Number(row!.n), 2);
      const [status] = await replica.query<{ Slave_SQL_Running: string; Using_Gtid: string }[]>('SHOW SLAVE STATUS');
      assert.equal(status!.Slave_SQL_Running, 'Yes');
      assert.equal(status!.Using_Gtid, 'Slave_Pos');
    }
  });

  test('a replica killed with SIGKILL resumes from its GTID position when started again', async () => {
    const [replica] = set.replicas;
    await replica!.kill();
    await set.query("INSERT INTO repl_h.region (name) VALUES ('while-down')");
    await replica!.restart();
    await set.waitForCatchUp();
    const [row] = await replica!.query<{ n: number }[]>(
      "SELECT COUNT(*) AS n FROM repl_h.region WHERE name = 'while-down'",
    );
    assert.equal(Number(row!.n), 1);
  });
});
