import { inspect } from 'node:util';

/**
 * Polls `check` until it returns a value other than undefined or false, or fails after `timeoutMs`
 * with what it waited for and the last error `check` threw. Tests wait with this instead of fixed
 * sleeps.
 */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 15_000,
  intervalMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  const reason = last instanceof Error ? String(last) : last === undefined ? '' : inspect(last);
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${reason ? `: ${reason}` : ''}`);
}

export interface JsonResponse<T> {
  status: number;
  headers: Headers;
  body: T;
}

/** A bounded fetch whose body is parsed as JSON (undefined when empty). */
export async function getJson<T = Record<string, unknown>>(
  url: string,
  init: RequestInit = {},
  timeoutMs = 10_000,
): Promise<JsonResponse<T>> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : undefined) as T };
}
