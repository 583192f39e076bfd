// Backoff and an abortable sleep: every wait in the warmer is bounded and ends at once on shutdown.
import { setTimeout as sleepTimer } from 'node:timers/promises';
import { fullJitterDelayMs } from '@mokakbab/config';

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

/** Delay of attempt `n` (0-based): full jitter over an exponential ceiling, so many warmers spread out. */
export const backoffMs = (attempt: number, { initialMs, maxMs }: BackoffOptions): number =>
  fullJitterDelayMs(attempt, initialMs, maxMs);

/** Resolves after `ms`, or false at once when `signal` aborts. */
export async function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false;
  try {
    await sleepTimer(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const message = err.message || err.name;
    return typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message;
  }
  return String(err);
}
