// Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff and Jitter"):
// a delay drawn uniformly from [0, min(cap, base * 2^attempt)], so a fleet that failed together
// does not retry together. The API's pool and the warmer both retry with it.

/** Delay before retry `attempt` (0-based). */
export function fullJitterDelayMs(attempt: number, baseMs: number, capMs: number, random = Math.random): number {
  const ceilingMs = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceilingMs);
}
