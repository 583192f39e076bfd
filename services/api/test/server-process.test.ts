// The real entry point as a child process: the `listening` line, readiness after the boot warm-up,
// SIGTERM -> exit 0, and exit 1 with a clear message on bad configuration.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { spawnService, type ServiceProcess, type TestDatabase, waitFor } from '@mokakbab/testkit';
import { seededDatabase, testEnv } from './helper.js';

const SERVER = fileURLToPath(new URL('../src/server.ts', import.meta.url));
const EXIT_TIMEOUT_MS = 15_000;

let db: TestDatabase;

before(async () => {
  db = await seededDatabase({ members: 2, articles: 2, participations: 2 });
});

after(async () => {
  await db?.close();
});

// The entry point with PATH alone and `env`: nothing of the test runner's environment leaks in.
const startServer = (env: Record<string, string>): ServiceProcess =>
  spawnService(SERVER, env, { cwd: process.cwd(), inheritEnv: false });

const exitCode = (child: ServiceProcess): Promise<number | string> => child.exitWithin(EXIT_TIMEOUT_MS);

test('src/server.ts listens on PORT=0, warms at boot, becomes ready, and exits 0 on SIGTERM', async (t) => {
  const child = startServer(
    testEnv(db, {
      HOST: '127.0.0.1',
      PORT: '0',
      ADMIN_PORT: '0',
      DB_POOL_SIZE: '3',
      WARM_ON_BOOT: 'true',
      SHUTDOWN_DELAY_MS: '200',
      LOG_LEVEL: 'info',
    }),
  );
  t.after(() => child.stop('SIGKILL'));

  await waitFor('the listening line', () => child.logs.some((l) => l.msg === 'listening'), EXIT_TIMEOUT_MS);
  const listening = child.logs.find((l) => l.msg === 'listening')!;
  const port = listening.port as number;
  const adminPort = listening.adminPort as number;
  assert.ok(port > 0 && adminPort > 0 && port !== adminPort);

  let lastStatus = 0;
  await waitFor(
    'ready',
    async () => {
      lastStatus = (await fetch(`http://127.0.0.1:${port}/health/ready`)).status;
      return lastStatus === 200;
    },
    EXIT_TIMEOUT_MS,
  );
  const warm = child.logs.find((l) => l.msg === 'pool warm');
  assert.equal(warm?.total, 3);
  const pool = (await (await fetch(`http://127.0.0.1:${adminPort}/pool`)).json()) as { warm: boolean };
  assert.equal(pool.warm, true);

  child.child.kill('SIGTERM');
  assert.equal(await exitCode(child), 0, child.stderr());
  assert.ok(child.logs.some((l) => l.msg === 'shutdown complete'));
});

test('a configuration error exits 1 naming the variable', async () => {
  const env = testEnv(db, { PORT: '0', ADMIN_PORT: '0' });
  delete env.JWT_SECRET;
  const child = startServer(env);
  assert.equal(await exitCode(child), 1);
  assert.match(child.stderr(), /JWT_SECRET is required/);
});

test('a pool that does not fit the server exits 1 with the numbers (DB_PLAN_CHECK=refuse)', async () => {
  const child = startServer(
    testEnv(db, { PORT: '0', ADMIN_PORT: '0', DB_POOL_SIZE: '100000', DB_PLAN_CHECK: 'refuse' }),
  );
  assert.equal(await exitCode(child), 1);
  assert.match(child.stderr(), /^Cannot start: .*DB_POOL_SIZE=100000 is above the plan/);
});
