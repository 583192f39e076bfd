// Child processes (APIs, warmers, bench servers, `pnpm dev`'s services) that end for sure: stop()
// signals, waits a bounded time, then SIGKILLs; whatever is still running when this process exits
// is killed with it.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface SpawnOptions {
  /** Default: this Node binary. */
  readonly command?: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /**
   * A process group of its own (a shell and what it execs): the exit hook and the SIGKILL of stop()
   * reach the whole group, and a Ctrl-C in the terminal reaches only this process.
   */
  readonly detached?: boolean;
  /**
   * Kill the child when this process gets SIGINT, SIGTERM or SIGHUP (the default: tests and the
   * bench). False for a program that drains its children itself on a signal (`pnpm dev`).
   */
  readonly killOnSignal?: boolean;
}

export interface Spawned {
  readonly child: ChildProcess;
  /** Resolves with the exit code (or the signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
  hasExited(): boolean;
  /** Waits up to `timeoutMs` for the process to exit by itself, then SIGKILLs it. */
  exitWithin(timeoutMs: number): Promise<number | string>;
  /** Sends `signal`, waits up to `timeoutMs` for the exit, then SIGKILLs (the group when detached). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | string>;
}

const running = new Map<ChildProcess, { detached: boolean; killOnSignal: boolean }>();
let hooksInstalled = false;

function kill(child: ChildProcess, detached: boolean): void {
  try {
    if (detached) process.kill(-child.pid!, 'SIGKILL');
    else child.kill('SIGKILL');
  } catch {
    // already gone
  }
}

// 'exit' does not fire on a signal, so the signals kill the children too, then the signal goes on
// (re-raised when no other handler is left).
function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', () => {
    for (const [child, how] of running) kill(child, how.detached);
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      for (const [child, how] of running) if (how.killOnSignal) kill(child, how.detached);
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

export function spawnTracked(opts: SpawnOptions): Spawned {
  installHooks();
  const detached = opts.detached ?? false;
  const child = spawn(opts.command ?? process.execPath, opts.args, {
    cwd: opts.cwd,
    env: opts.env,
    detached,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.set(child, { detached, killOnSignal: opts.killOnSignal ?? true });
  const exited = new Promise<number | string>((done) => {
    child.once('exit', (code, signal) => {
      // A group outlives its leader (a watcher's child): the exit hook still kills it.
      if (!detached) running.delete(child);
      done(code ?? signal ?? 'unknown');
    });
  });
  const hasExited = () => child.exitCode !== null || child.signalCode !== null;
  const exitWithin = async (timeoutMs: number) => {
    const timer = setTimeout(() => kill(child, detached), timeoutMs);
    try {
      return await exited;
    } finally {
      clearTimeout(timer);
    }
  };
  return {
    child,
    exited,
    hasExited,
    exitWithin,
    stop(signal = 'SIGTERM', timeoutMs = 15_000) {
      if (!hasExited()) child.kill(signal);
      return exitWithin(timeoutMs);
    },
  };
}

export type LogLine = Record<string, unknown> & { msg?: string };

export interface ServiceProcess extends Spawned {
  readonly env: Record<string, string>;
  /** stdout, one entry per line: pino's JSON parsed, anything else as `{ msg }`. */
  readonly logs: LogLine[];
  stderr(): string;
  waitForLog(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
}

export interface ServiceOptions {
  readonly cwd: string;
  /** Start from this process's environment (the default) or from PATH alone. */
  readonly inheritEnv?: boolean;
}

/** Runs `node --conditions=source --import tsx <entry>` with `env` on top of ours, reading its log lines. */
export function spawnService(entry: string, env: Record<string, string>, opts: ServiceOptions): ServiceProcess {
  const base = (opts.inheritEnv ?? true) ? process.env : { PATH: process.env.PATH };
  const proc = spawnTracked({
    args: ['--conditions=source', '--import', 'tsx', entry],
    cwd: opts.cwd,
    env: { ...base, ...env },
  });
  const { child } = proc;
  const logs: LogLine[] = [];
  const waiters = new Set<() => void>();
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      logs.push(JSON.parse(line) as LogLine);
    } catch {
      logs.push({ msg: line });
    }
    for (const wake of waiters) wake();
  });
  void proc.exited.then(() => {
    for (const wake of waiters) wake();
  });

  return {
    ...proc,
    env,
    logs,
    stderr: () => stderr,
    waitForLog(match, timeoutMs = 30_000) {
      return new Promise((done, fail) => {
        let seen = 0;
        const check = () => {
          for (; seen < logs.length; seen++) {
            if (match(logs[seen]!)) return finish(() => done(logs[seen]!));
          }
          if (proc.hasExited())
            finish(() => fail(new Error(`${entry} exited before the expected log line:\n${stderr.slice(-2000)}`)));
        };
        const timer = setTimeout(
          () =>
            finish(() =>
              fail(new Error(`${entry}: no expected log line within ${timeoutMs} ms:\n${stderr.slice(-2000)}`)),
            ),
          timeoutMs,
        );
        const finish = (settle: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          settle();
        };
        waiters.add(check);
        check();
      });
    },
  };
}
