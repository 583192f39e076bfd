// One API (or bench server) child process from source, on free loopback ports, stopped for sure by `stop()`.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '@mokakbab/testkit';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
// Generous: a pool of 300 over TLS plus the self-warm on a machine shared with other work.
const START_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 5_000;

// The built API, as production runs it: from source through tsx, start-up, memory and the first
// requests would include the loader's work. run.ts builds it first.
export const API_ENTRY = 'services/api/dist/server.js';

export interface ApiProcess {
  readonly url: string;
  readonly adminUrl: string;
  readonly pid: number;
  /** The last lines the process wrote, for error messages. */
  output(): string;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
// An interrupted bench must not leave API processes behind: exiting on a signal runs the exit hooks
// (these and the database harness's).
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `url` until it answers 200, the process dies, or the deadline passes. */
export async function waitFor200(url: string, child: ApiProcess, timeoutMs = START_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // Not listening yet.
    }
    await sleep(25);
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms; API output:\n${child.output()}`);
}

/**
 * Starts the API (or another `entry` that serves /health/live on PORT) with `env` added to a bench
 * baseline and waits until its public port is live.
 */
export async function startApi(env: Record<string, string>, entry = API_ENTRY): Promise<ApiProcess> {
  const [port, adminPort] = [await freePort(), await freePort()];
  // A bench server in TypeScript runs through tsx, without the source condition: the packages it
  // imports resolve to their dist like the API's do.
  const args = entry.endsWith('.ts') ? ['--import', 'tsx', entry] : [entry];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: String(port),
      ADMIN_HOST: '127.0.0.1',
      ADMIN_PORT: String(adminPort),
      LOG_LEVEL: 'warn',
      // Nothing routes to this process: stop without the production drain delay.
      SHUTDOWN_DELAY_MS: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const tail: string[] = [];
  const keep = (chunk: Buffer) => {
    tail.push(chunk.toString('utf8'));
    if (tail.length > 20) tail.shift();
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const api: ApiProcess = {
    url: `http://127.0.0.1:${port}`,
    adminUrl: `http://127.0.0.1:${adminPort}`,
    pid: child.pid!,
    output: () => tail.join(''),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
      }
      running.delete(child);
    },
  };
  try {
    await Promise.race([
      waitFor200(`${api.url}/health/live`, api),
      exited.then(() => {
        throw new Error(`the API exited during start (code ${child.exitCode}):\n${api.output()}`);
      }),
    ]);
  } catch (err) {
    await api.stop();
    throw err;
  }
  return api;
}
