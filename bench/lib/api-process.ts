// One API (or bench server) child process from source, on free loopback ports, stopped for sure by `stop()`.
import { fileURLToPath } from 'node:url';
import { freePort, spawnTracked, waitFor } from '@mokakbab/testkit';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
// Generous: a pool of 300 over TLS plus the self-warm on a machine shared with other work.
const START_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 5_000;

// The built API, as production runs it: from source through tsx, start-up, memory and the first
// requests would include the loader's work. run.ts builds it first.
export const API_ENTRY = 'services/api/dist/server.js';
// Its V8 and malloc settings: the launcher every other way of running the API uses too.
export const API_LAUNCHER = 'services/api/run.sh';
// What the launcher sets: a value in the bench's own environment would override it.
const LAUNCHER_VARS = ['NODE_OPTIONS', 'GLIBC_TUNABLES'];

export interface ApiProcess {
  readonly url: string;
  readonly adminUrl: string;
  readonly pid: number;
  /** The last lines the process wrote, for error messages. */
  output(): string;
  stop(): Promise<void>;
}

// An interrupted bench exits through its exit hooks: the testkit's kill the API processes, the
// harness's stop the bench's persistent database server cleanly.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

/** Polls `url` until it answers 200, the process dies, or the deadline passes. */
export async function waitFor200(url: string, child: ApiProcess, timeoutMs = START_TIMEOUT_MS): Promise<void> {
  try {
    await waitFor(
      `${url} to answer 200`,
      async () => {
        const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
        await res.arrayBuffer();
        return res.ok;
      },
      timeoutMs,
    );
  } catch {
    throw new Error(`${url} did not answer 200 within ${timeoutMs} ms; API output:\n${child.output()}`);
  }
}

export interface StartOptions {
  /** `node <entry>` without the launcher's settings: V8 and glibc size everything themselves. */
  readonly plainNode?: boolean;
}

/**
 * Starts the API (or another `entry` that serves /health/live on PORT) with `env` added to a bench
 * baseline and waits until its public port is live. The API runs through its launcher, as in production.
 */
export async function startApi(
  env: Record<string, string>,
  entry = API_ENTRY,
  { plainNode = false }: StartOptions = {},
): Promise<ApiProcess> {
  const [port, adminPort] = [await freePort(), await freePort()];
  // A bench server in TypeScript runs through tsx, without the source condition: the packages it
  // imports resolve to their dist like the API's do.
  const launched = entry === API_ENTRY && !plainNode;
  const args = entry.endsWith('.ts') ? ['--import', 'tsx', entry] : launched ? [API_LAUNCHER, entry] : [entry];
  // The launcher execs node: the pid stays the API's.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !LAUNCHER_VARS.includes(k)));
  const proc = spawnTracked({
    ...(launched ? { command: 'sh' } : {}),
    args,
    cwd: ROOT,
    env: {
      ...inherited,
      HOST: '127.0.0.1',
      PORT: String(port),
      ADMIN_HOST: '127.0.0.1',
      ADMIN_PORT: String(adminPort),
      LOG_LEVEL: 'warn',
      // Nothing routes to this process: stop without the production drain delay.
      SHUTDOWN_DELAY_MS: '0',
      ...env,
    },
  });
  const { child } = proc;
  const tail: string[] = [];
  const keep = (chunk: Buffer) => {
    tail.push(chunk.toString('utf8'));
    if (tail.length > 20) tail.shift();
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const api: ApiProcess = {
    url: `http://127.0.0.1:${port}`,
    adminUrl: `http://127.0.0.1:${adminPort}`,
    pid: child.pid!,
    output: () => tail.join(''),
    async stop() {
      await proc.stop('SIGTERM', STOP_TIMEOUT_MS);
    },
  };
  try {
    await Promise.race([
      waitFor200(`${api.url}/health/live`, api),
      proc.exited.then(() => {
        throw new Error(`the API exited during start (code ${child.exitCode}):\n${api.output()}`);
      }),
    ]);
  } catch (err) {
    await api.stop();
    throw err;
  }
  return api;
}
