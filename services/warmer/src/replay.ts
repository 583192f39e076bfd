// The warm-up replay: a short list of requests sent for a bounded time through an undici keep-alive
// pool against the public port, so the API's hot path is compiled before real traffic arrives.
import { readFileSync } from 'node:fs';
import { Pool } from 'undici';
import { ConfigError } from '@mokakbab/config';

export interface ReplayRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: unknown;
  expectStatus: number;
}

export interface ReplaySpec {
  /** When set, `POST /auth/sign-in` runs first and `$TOKEN` in header values becomes its access token. */
  signIn?: { email: string; password: string };
  requests: ReplayRequest[];
}

export interface ReplayOptions {
  durationMs: number;
  connections: number;
  requestTimeoutMs: number;
  signal: AbortSignal;
}

export interface ReplayResult {
  requests: number;
  ms: number;
}

export class ReplayError extends Error {
  override name = 'ReplayError';
}

const TOKEN = '$TOKEN';
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** Reads WARMER_REPLAY or WARMER_REPLAY_FILE; undefined when neither is set. */
export function loadReplay(config: {
  replay?: string | undefined;
  replayFile?: string | undefined;
}): ReplaySpec | undefined {
  if (config.replay) return parseReplay(config.replay, 'WARMER_REPLAY');
  if (!config.replayFile) return undefined;
  let text: string;
  try {
    text = readFileSync(config.replayFile, 'utf8');
  } catch (err) {
    throw new ConfigError([
      `WARMER_REPLAY_FILE=${JSON.stringify(config.replayFile)} cannot be read: ${(err as Error).message}`,
    ]);
  }
  return parseReplay(text, `WARMER_REPLAY_FILE (${config.replayFile})`);
}

/** Accepts a bare array of requests or `{ signIn?, requests }`; the error names the variable. */
export function parseReplay(text: string, source: string): ReplaySpec {
  const problems: string[] = [];
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError([`${source} is not valid JSON: ${(err as Error).message}`]);
  }
  const top = Array.isArray(raw) ? { requests: raw } : raw;
  if (!isObject(top) || !Array.isArray(top.requests)) {
    throw new ConfigError([`${source} must be an array of requests or { "signIn"?, "requests": [...] }`]);
  }
  const spec: ReplaySpec = { requests: [] };
  if (top.signIn !== undefined) {
    const s = top.signIn;
    if (isObject(s) && typeof s.email === 'string' && typeof s.password === 'string') {
      spec.signIn = { email: s.email, password: s.password };
    } else problems.push(`${source}: signIn must be { "email": string, "password": string }`);
  }
  if (top.requests.length === 0) problems.push(`${source}: requests is empty`);
  top.requests.forEach((r: unknown, i: number) => {
    const at = `${source}: requests[${i}]`;
    if (!isObject(r)) return problems.push(`${at} is not an object`);
    const method = typeof r.method === 'string' ? r.method.toUpperCase() : '';
    if (!METHODS.has(method)) problems.push(`${at}.method must be one of ${[...METHODS].join(', ')}`);
    if (typeof r.path !== 'string' || !r.path.startsWith('/')) problems.push(`${at}.path must start with /`);
    if (!Number.isInteger(r.expectStatus) || (r.expectStatus as number) < 100 || (r.expectStatus as number) > 599) {
      problems.push(`${at}.expectStatus must be an HTTP status`);
    }
    const headers = r.headers;
    if (headers !== undefined && (!isObject(headers) || Object.values(headers).some((v) => typeof v !== 'string'))) {
      problems.push(`${at}.headers must map names to strings`);
    }
    if (typeof r.headers === 'object' && JSON.stringify(r.headers).includes(TOKEN) && !top.signIn) {
      problems.push(`${at} uses ${TOKEN} but no signIn is given`);
    }
    spec.requests.push({
      method,
      path: r.path as string,
      ...(headers !== undefined ? { headers: headers as Record<string, string> } : {}),
      ...(r.body !== undefined ? { body: r.body } : {}),
      expectStatus: r.expectStatus as number,
    });
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return spec;
}

interface Prepared {
  label: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | undefined;
  expectStatus: number;
}

/** Runs the replay; throws a ReplayError naming the first request that failed or answered wrong. */
export async function runReplay(publicUrl: URL, spec: ReplaySpec, opts: ReplayOptions): Promise<ReplayResult> {
  const startedAt = performance.now();
  const pool = new Pool(publicUrl.origin, {
    connections: opts.connections,
    connectTimeout: opts.requestTimeoutMs,
    headersTimeout: opts.requestTimeoutMs,
    bodyTimeout: opts.requestTimeoutMs,
    keepAliveTimeout: 10_000,
  });
  const send = async (r: Prepared): Promise<string> => {
    let statusCode: number;
    let text: string;
    try {
      const res = await pool.request({
        method: r.method,
        path: r.path,
        headers: r.headers,
        body: r.body,
        signal: opts.signal,
      });
      statusCode = res.statusCode;
      text = await res.body.text();
    } catch (err) {
      throw new ReplayError(`${r.label} failed: ${(err as Error).message}`);
    }
    if (statusCode !== r.expectStatus) {
      throw new ReplayError(`${r.label} answered ${statusCode}, expected ${r.expectStatus}: ${text.slice(0, 200)}`);
    }
    return text;
  };
  try {
    let token = '';
    if (spec.signIn) {
      const signIn = prepare({ method: 'POST', path: '/auth/sign-in', body: spec.signIn, expectStatus: 200 }, '');
      const body = JSON.parse(await send(signIn)) as { accessToken?: unknown };
      if (typeof body.accessToken !== 'string') throw new ReplayError('POST /auth/sign-in answered no accessToken');
      token = body.accessToken;
    }
    const prepared = spec.requests.map((r) => prepare(r, token));
    const deadline = startedAt + opts.durationMs;
    let requests = 0;
    let failed = false;
    // Each connection runs the whole list at least once, then again until the duration ends.
    const worker = async (): Promise<void> => {
      do {
        for (const r of prepared) {
          if (failed || opts.signal.aborted) return;
          try {
            await send(r);
          } catch (err) {
            failed = true;
            throw err;
          }
          requests++;
        }
      } while (performance.now() < deadline);
    };
    await Promise.all(Array.from({ length: opts.connections }, worker));
    if (opts.signal.aborted) throw new ReplayError('replay aborted');
    return { requests, ms: performance.now() - startedAt };
  } finally {
    await pool.destroy();
  }
}

function prepare(r: ReplayRequest, token: string): Prepared {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(r.headers ?? {}))
    headers[name.toLowerCase()] = value.replaceAll(TOKEN, token);
  let body: string | undefined;
  if (r.body !== undefined) {
    body = typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
    headers['content-type'] ??= 'application/json';
  }
  return {
    label: `${r.method} ${r.path}`,
    method: r.method,
    path: r.path,
    headers,
    body,
    expectStatus: r.expectStatus,
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
