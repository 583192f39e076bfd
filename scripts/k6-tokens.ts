// `pnpm k6:tokens --count N`: signs in the seeded members 1..N against a running API and writes
// their token pairs as JSON (entry i = member i + 1), for k6's TOKENS_FILE: a scenario then starts
// without one scrypt sign-in per member. Access tokens live JWT_ACCESS_TTL_S (15 min by default).
// A 503 (HASHING_BUSY: more at once than PASSWORD_HASH_MAX_CONCURRENT) or 429 (RATE_LIMITED: one
// address signing in many members needs the API started with k6/load.env) is waited out per its
// Retry-After, up to MAX_WAIT_MS per member, then the run fails saying why.
import { setTimeout as sleep } from 'node:timers/promises';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_PORTS } from '@mokakbab/config';
import { seededMember } from '@mokakbab/db';

const USAGE = `pnpm k6:tokens --count N [--base-url URL] [--out FILE] [--concurrency N]
  --base-url     the API (default $BASE_URL or http://127.0.0.1:${DEFAULT_PORTS.api})
  --out          default k6/results/tokens.json
  --concurrency  sign-ins in flight at once (default 4): each is a scrypt hash on the server`;
const REQUEST_TIMEOUT_MS = 10_000;
/** Retry-After waits one member's sign-in may add up (a 429 may say a whole 60 s window). */
const MAX_WAIT_MS = 30_000;

interface TokenPair {
  accessToken: string;
  refreshToken: string;
}

function options() {
  const { values } = parseArgs({
    options: {
      count: { type: 'string' },
      'base-url': { type: 'string' },
      out: { type: 'string' },
      concurrency: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  const count = Number(values.count);
  const concurrency = Number(values.concurrency ?? 4);
  if (values.help || !Number.isInteger(count) || count < 1 || !Number.isInteger(concurrency) || concurrency < 1) {
    console.error(USAGE);
    process.exit(values.help ? 0 : 2);
  }
  const baseUrl = (values['base-url'] ?? process.env.BASE_URL ?? `http://127.0.0.1:${DEFAULT_PORTS.api}`).replace(
    /\/+$/,
    '',
  );
  return { count, concurrency, baseUrl, out: resolve(values.out ?? 'k6/results/tokens.json') };
}

async function signIn(baseUrl: string, id: number): Promise<TokenPair> {
  for (let waitedMs = 0; ;) {
    const res = await fetch(`${baseUrl}/auth/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(seededMember(id)),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await res.text();
    if (res.status === 200) {
      const { accessToken, refreshToken } = JSON.parse(text) as TokenPair;
      return { accessToken, refreshToken };
    }
    const retryAfterMs = Number(res.headers.get('retry-after')) * 1000;
    const retryable = (res.status === 429 || res.status === 503) && Number.isFinite(retryAfterMs) && retryAfterMs > 0;
    if (!retryable || waitedMs + retryAfterMs > MAX_WAIT_MS) {
      const hint = res.status === 429 ? ' (start the API with k6/load.env: see k6/README.md)' : '';
      throw new Error(`sign-in of member ${id} answered ${res.status}: ${text}${hint}`);
    }
    await sleep(retryAfterMs);
    waitedMs += retryAfterMs;
  }
}

const { count, concurrency, baseUrl, out } = options();
const pairs: TokenPair[] = new Array<TokenPair>(count);
let next = 1;
await Promise.all(
  Array.from({ length: Math.min(concurrency, count) }, async () => {
    for (let id = next++; id <= count; id = next++) pairs[id - 1] = await signIn(baseUrl, id);
  }),
);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(pairs)}\n`, { mode: 0o600 });
console.log(
  `${count} token pairs for members 1..${count} in ${out}\n  k6 run -e TOKENS_FILE=${out} -e MEMBERS=${count} k6/mixed.js`,
);
