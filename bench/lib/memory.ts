// Where an API process's memory is: its RSS from /proc and V8's own figures from the default
// process metrics on its admin /metrics (prom-client: heap totals, external, per-space sizes).
import { readFileSync } from 'node:fs';

export interface MemoryBreakdown {
  readonly rssMb: number;
  /** RSS split as /proc/<pid>/status has it: anonymous (heaps, malloc arenas) and file-backed (the binary). */
  readonly rssAnonMb: number;
  readonly rssFileMb: number;
  readonly heapTotalMb: number;
  readonly heapUsedMb: number;
  readonly externalMb: number;
  /** Committed size per V8 heap space (new_space, old_space, code_space, large_object_space, ...). */
  readonly spacesMb: Readonly<Record<string, number>>;
  /** Seconds spent in GC since the process started, by kind (minor, major, incremental, weakcb). */
  readonly gcSeconds: Readonly<Record<string, number>>;
}

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

function statusBytes(status: string, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return match ? Number(match[1]) * 1024 : Number.NaN;
}

function metric(text: string, name: string): number {
  const match = new RegExp(`^${name} (\\S+)`, 'm').exec(text);
  return match ? Number(match[1]) : Number.NaN;
}

/** The figures from /proc/<pid>/status and the API's Prometheus text (both read at the same moment). */
export function parseMemory(status: string, metrics: string): MemoryBreakdown {
  const labelled = (name: string, label: string) =>
    Object.fromEntries(
      [...metrics.matchAll(new RegExp(`^${name}\\{${label}="([a-z_]+)"\\} (\\S+)`, 'gm'))].map((m) => [
        m[1]!,
        Number(m[2]),
      ]),
    );
  const spaces = labelled('nodejs_heap_space_size_total_bytes', 'space');
  return {
    rssMb: mb(statusBytes(status, 'VmRSS')),
    rssAnonMb: mb(statusBytes(status, 'RssAnon')),
    rssFileMb: mb(statusBytes(status, 'RssFile')),
    heapTotalMb: mb(metric(metrics, 'nodejs_heap_size_total_bytes')),
    heapUsedMb: mb(metric(metrics, 'nodejs_heap_size_used_bytes')),
    externalMb: mb(metric(metrics, 'nodejs_external_memory_bytes')),
    spacesMb: Object.fromEntries(Object.entries(spaces).map(([space, bytes]) => [space, mb(bytes)])),
    gcSeconds: labelled('nodejs_gc_duration_seconds_sum', 'kind'),
  };
}

/** RSS of `pid` and the heap figures of the API answering on `adminUrl` (the same process). */
export async function memoryBreakdown(pid: number, adminUrl: string): Promise<MemoryBreakdown> {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const metrics = await (await fetch(`${adminUrl}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
  return parseMemory(status, metrics);
}
