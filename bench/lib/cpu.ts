// CPU time of processes, from /proc (children: API, bare server, database) and process.cpuUsage (the
// load client, which runs in the bench process).
import { readFileSync } from 'node:fs';

// USER_HZ is 100 on every Linux ABI Node runs on.
const TICK_MS = 10;

/** user + system CPU ms of `pid` so far (Linux /proc; fields 14 and 15 of stat). */
export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may contain spaces and parentheses: split after its closing one.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

/** Resident set size of `pid` in bytes (VmRSS). */
export function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : Number.NaN;
}

function selfCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

export interface CpuSpent {
  /** CPU ms of each measured process during the interval, by name. */
  readonly byProcess: Record<string, number>;
  /** CPU ms of this process (the load client) during the interval. */
  readonly clientMs: number;
}

/** Starts measuring; the returned function gives the CPU spent since. */
export function cpuMeter(pids: Record<string, number>): () => CpuSpent {
  const start = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, processCpuMs(pid)]));
  const clientStart = selfCpuMs();
  return () => ({
    byProcess: Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, processCpuMs(pid) - start[name]!])),
    clientMs: selfCpuMs() - clientStart,
  });
}
