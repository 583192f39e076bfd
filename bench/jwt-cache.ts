// Micro-benchmark: access-token verification through fast-jwt directly vs through the API's cached
// verifier, HS256 and RS256, in one process and one run, plus the cost of the two cache-key choices.
//   tsx --conditions=source bench/jwt-cache.ts
// Bounded: every arm runs for MEASURE_MS after a short warm-up, about 8 s in all.
import { generateKeyPairSync, hash, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { createCachedVerifier, type AccessClaims } from '@mokakbab/api';

// The API's own fast-jwt, resolved from its package (the root package does not depend on it).
interface FastJwt {
  createSigner(opts: { key: string; algorithm: string }): (payload: Record<string, unknown>) => string;
  createVerifier(opts: { key: string; algorithms: string[]; cache: false }): (token: string) => AccessClaims;
}
const fastJwt = createRequire(import.meta.resolve('@mokakbab/api'))('fast-jwt') as FastJwt;

const WARMUP_MS = 150;
const MEASURE_MS = 600;
const POOL_SIZE = 500;
const CACHE_SIZE = 10_000;
const MAX_TOKEN_BYTES = 4_096;

interface Algo {
  name: string;
  sign: (payload: Record<string, unknown>) => string;
  verify: (token: string) => AccessClaims;
}

function algorithms(): Algo[] {
  const secret = 'bench-secret-that-is-at-least-32-characters-long';
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return [
    {
      name: 'HS256',
      sign: fastJwt.createSigner({ key: secret, algorithm: 'HS256' }),
      verify: fastJwt.createVerifier({ key: secret, algorithms: ['HS256'], cache: false }),
    },
    {
      name: 'RS256',
      sign: fastJwt.createSigner({ key: privateKey, algorithm: 'RS256' }),
      verify: fastJwt.createVerifier({ key: publicKey, algorithms: ['RS256'], cache: false }),
    },
  ];
}

/** `Authorization: Bearer <token>` headers as bytes, shaped like the API's own access tokens. */
function headerPool(algo: Algo): Buffer[] {
  const iat = Math.floor(Date.now() / 1000);
  return Array.from({ length: POOL_SIZE }, (_, n) =>
    Buffer.from(`Bearer ${algo.sign({ sub: String(n + 1), jti: randomUUID(), iat, exp: iat + 900 })}`, 'latin1'),
  );
}

// Each request's token is a new string, as Node's HTTP parser makes one per header, so V8 has to
// hash it again: reusing one string would hide the real cost of a string-keyed lookup.
const tokenOf = (header: Buffer): string => header.toString('latin1', 7);

/** Runs `op` over the pool until `budgetMs` has passed; returns operations per second. */
function opsPerSecond(
  headers: Buffer[],
  op: (token: string) => unknown,
  budgetMs: number,
): { ops: number; perS: number } {
  let ops = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < budgetMs) {
    for (const header of headers) op(tokenOf(header));
    ops += headers.length;
    elapsed = performance.now() - start;
  }
  return { ops, perS: (ops * 1000) / elapsed };
}

function measure(name: string, headers: Buffer[], op: (token: string) => unknown): number {
  opsPerSecond(headers, op, WARMUP_MS);
  const { ops, perS } = opsPerSecond(headers, op, MEASURE_MS);
  console.log(
    `  ${name.padEnd(34)} ${String(ops).padStart(9)} ops  ${Math.round(perS).toLocaleString('en-US').padStart(11)} ops/s`,
  );
  return perS;
}

console.log(`node ${process.version}, ${POOL_SIZE} distinct tokens per algorithm, ${MEASURE_MS} ms per arm\n`);

for (const algo of algorithms()) {
  const headers = headerPool(algo);
  console.log(`${algo.name} (token ${tokenOf(headers[0]!).length} bytes)`);
  const direct = measure('fast-jwt verify, no cache', headers, algo.verify);
  const cached = createCachedVerifier({ verify: algo.verify, cacheSize: CACHE_SIZE, maxTokenBytes: MAX_TOKEN_BYTES });
  const viaCache = measure('createCachedVerifier (cache on)', headers, cached.verify);
  const { hits, misses, size } = cached.stats();
  console.log(`  cache: ${hits} hits, ${misses} misses, ${size} entries`);
  console.log(`  RATIO cached / direct: ${(viaCache / direct).toFixed(1)}x\n`);

  // The two ways to key the cache, on the same entries: the whole token string, or its SHA-256.
  const byToken = new Map<string, number>();
  const byDigest = new Map<string, number>();
  headers.forEach((header, i) => {
    byToken.set(tokenOf(header), i);
    byDigest.set(hash('sha256', tokenOf(header), 'base64'), i);
  });
  console.log(`  cache key cost (key bytes per entry: token ${tokenOf(headers[0]!).length}, sha256 base64 44)`);
  const baseline = measure('new token string only (baseline)', headers, (token) => token.length);
  const tokenKey = measure('Map.get(token)', headers, (token) => byToken.get(token));
  const digestKey = measure('Map.get(sha256(token))', headers, (token) =>
    byDigest.get(hash('sha256', token, 'base64')),
  );
  const nsAbove = (perS: number): string => (1e9 / perS - 1e9 / baseline).toFixed(0);
  console.log(`  lookup cost above baseline: token key ${nsAbove(tokenKey)} ns, digest key ${nsAbove(digestKey)} ns`);
  console.log(`  RATIO token key / digest key: ${(tokenKey / digestKey).toFixed(1)}x\n`);
}
