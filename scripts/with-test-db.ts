// `pnpm test`: one throwaway server for the whole run (each test file makes its own database on it),
// passed down as TEST_DATABASE_URL; stopped and deleted when the command ends, however it ends.
import { spawn } from 'node:child_process';
import { startMysqlServer, TEST_DATABASE_URL_VAR } from '@mokakbab/testkit';

const [command, ...args] = process.argv.slice(2);
if (!command) {
  console.error('usage: with-test-db <command> [args...]');
  process.exit(2);
}

const external = process.env[TEST_DATABASE_URL_VAR];
const server = external ? undefined : await startMysqlServer({ options: { max_connections: 500 } });
const url = external ?? server!.url.href;
if (server) console.log(`test database server: ${server.flavor} on 127.0.0.1:${server.port} (${server.dataDir})`);

const child = spawn(command, args, { stdio: 'inherit', env: { ...process.env, [TEST_DATABASE_URL_VAR]: url } });
const forward = (signal: NodeJS.Signals) => child.kill(signal);
process.on('SIGINT', forward);
process.on('SIGTERM', forward);
const code = await new Promise<number>((resolve) => child.on('exit', (c, s) => resolve(c ?? (s ? 1 : 0))));
await server?.stop();
process.exit(code);
