// The pool-plan CLI as a user runs it (`pnpm pool-plan`), including --from-server against a real server.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createTestDatabase, type TestDatabase } from '@mokakbab/testkit';

const run = promisify(execFile);
// The CLI's source file, found through the package's exports (tests run with the `source` condition).
const CLI = fileURLToPath(import.meta.resolve('@mokakbab/config/cli'));

async function poolPlan(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--conditions=source', '--import', 'tsx', CLI, ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('pnpm pool-plan', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase({ serverOptions: { max_connections: 151, wait_timeout: 600 } });
  });
  after(() => db.close());

  test('the documented examples hold', async () => {
    const a = await poolPlan([
      '--max-connections',
      '151',
      '--replicas',
      '3',
      '--max-surge',
      '1',
      '--reserved',
      '10',
      '--json',
    ]);
    assert.equal(a.code, 0);
    assert.equal(JSON.parse(a.stdout).perInstance, 35);
    const b = await poolPlan([
      '--max-connections',
      '151',
      '--replicas',
      '3',
      '--max-replicas',
      '6',
      '--max-surge',
      '25%',
      '--reserved',
      '10',
      '--json',
    ]);
    assert.equal(JSON.parse(b.stdout).perInstance, 17);
  });

  test('an impossible plan exits 1 with the reason; a usage error exits 2', async () => {
    const bad = await poolPlan(['--max-connections', '5', '--replicas', '10']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /cannot give each instance a connection/);
    const usage = await poolPlan(['--replicas', '3']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /usage: pool-plan/);
  });

  test('--from-server reads max_connections and wait_timeout from the live server', async () => {
    const r = await poolPlan(['--from-server', db.url.href, '--replicas', '2', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.maxConnections, 151);
    assert.equal(out.server.waitTimeoutS, 600);
    assert.equal(out.perInstance, 70); // (151 - 10 reserved - 1 warm slot) / 2
    assert.deepEqual(out.timing.errors, []);
  });

  test('--from-server flags a pool lifetime the server would cut short', async () => {
    const short = await createTestDatabase({ serverOptions: { wait_timeout: 60 } });
    try {
      const r = await poolPlan(['--from-server', short.url.href, '--replicas', '1']);
      assert.equal(r.code, 1);
      assert.match(r.stdout, /max lifetime 300000 ms must be below wait_timeout 60 s/);
    } finally {
      await short.close();
    }
  });
});
