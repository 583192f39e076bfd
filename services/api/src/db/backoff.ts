// The pool's two retry policies, both full-jitter backoff (@mokakbab/config's fullJitterDelayMs).
export { fullJitterDelayMs } from '@mokakbab/config';

/**
 * Probing a server that is down (no connection open, the last connect failed) or not up yet at
 * start: a refused connect costs the server nothing, and service comes back within the cap of it
 * accepting again.
 */
export const PROBE_BACKOFF = { baseMs: 50, capMs: 500 } as const;

/**
 * Opening the rest of a pool that has connections (the server refused more, 1040): each attempt
 * costs a full server that is already short, so the cap is longer.
 */
export const REFILL_BACKOFF = { baseMs: 100, capMs: 5_000 } as const;
