// Builds the API for tests the way server.ts does (same config loader, same plugins), against a
// fresh database from the @mokakbab/db harness, with a small scrypt cost and a small pool.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import type { TestContext } from 'node:test';
import { Writable } from 'node:stream';
import { loadApiConfig, type ApiConfig } from '@mokakbab/config';
import { seededMember } from '@mokakbab/db';
import { createTestDatabase, type TestDatabase } from '@mokakbab/testkit';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { createLogger } from '../src/lifecycle/server-options.js';
import { buildInstances } from '../src/lifecycle/instances.js';

export const TEST_JWT_SECRET = 'test-secret-for-the-api-tests-0123456789';

/** The environment of a test API; `overrides` win. */
export function testEnv(db: Pick<TestDatabase, 'url'>, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: db.url.href,
    JWT_SECRET: TEST_JWT_SECRET,
    PASSWORD_SCRYPT_COST: '16',
    DB_POOL_SIZE: '4',
    DB_WARM_TIMEOUT_MS: '10000',
    SHUTDOWN_DELAY_MS: '0',
    WARM_ON_BOOT: 'false',
    // Tests warm many instances; the self-warm has its own test (warm-up.test.ts).
    WARM_REQUESTS: '0',
    LOG_LEVEL: 'silent',
    // Tests sign in often from one address; the limits have their own test (test/reliability/sign-in-flood).
    RATE_LIMIT_AUTH_IP_MAX: '1000000',
    RATE_LIMIT_AUTH_ACCOUNT_MAX: '1000000',
    // A busy shared machine (or coverage) blocks the loop for seconds while a file loads, and the
    // next requests would get EVENT_LOOP_OVERLOADED; overload has its own tests (test/reliability).
    MAX_EVENT_LOOP_DELAY_MS: '0',
    ...overrides,
  };
}

export interface TestApi {
  app: FastifyInstance;
  admin: FastifyInstance;
  config: ApiConfig;
}

export interface BuildOptions {
  env?: Record<string, string>;
  /** Warm the pool before returning (default true); false leaves the instance not ready. */
  warm?: boolean;
  /** Receives every log line (JSON) when given. */
  logLines?: string[];
}

/** Builds both instances; `t.after` closes them (closing the app ends its pool). */
export async function build(t: TestContext | undefined, db: TestDatabase, opts: BuildOptions = {}): Promise<TestApi> {
  const config = loadApiConfig(testEnv(db, opts.env));
  const lines = opts.logLines;
  const destination = lines
    ? new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(chunk.toString());
          done();
        },
      })
    : undefined;
  const { app, admin } = await buildInstances(config, createLogger(config, destination));
  t?.after(async () => {
    await app.close();
    await admin.close();
  });
  if (opts.warm !== false) await app.warmUp();
  return { app, admin, config };
}

/** A fresh database seeded with a few members, articles and participations; closed after the file. */
export async function seededDatabase(
  counts = { members: 20, articles: 10, participations: 40 },
): Promise<TestDatabase> {
  const db = await createTestDatabase();
  await db.seed(counts);
  return db;
}

export interface Tokens {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
}

/** Signs in seeded member `id` (email member{id}@example.com, password password{id}). */
export async function signIn(app: FastifyInstance, id: number): Promise<Tokens> {
  const res = await app.inject({ method: 'POST', url: '/auth/sign-in', payload: seededMember(id) });
  if (res.statusCode !== 200) throw new Error(`sign-in of member ${id} failed: ${res.statusCode} ${res.body}`);
  return res.json<Tokens>();
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

export interface ErrorBody {
  statusCode: number;
  code: string;
  error: string;
  message: string;
}

/** Asserts the response carries the one error shape with its own status, and returns the body. */
export function errorBody(res: LightMyRequestResponse): ErrorBody {
  const body = res.json<ErrorBody>();
  assert.deepEqual(Object.keys(body).sort(), ['code', 'error', 'message', 'statusCode']);
  assert.equal(body.statusCode, res.statusCode);
  return body;
}

/** A valid category, region and district for a new article, plus a region and a district that do not match. */
export async function articlePlace(db: TestDatabase) {
  const [row] = await db.query<
    { category_id: number; region_id: number; district_id: number; other_region: number; other_district: number }[]
  >(
    `SELECT (SELECT MIN(id) FROM category) AS category_id, d.region_id, d.id AS district_id,
       (SELECT MIN(id) FROM region WHERE id <> d.region_id) AS other_region,
       (SELECT MIN(id) FROM district WHERE region_id <> d.region_id) AS other_district
     FROM district d ORDER BY d.id LIMIT 1`,
  );
  return row!;
}

/** Closes what a test file built, in order: both instances (the pool with them), then the database. */
export async function closeAll(api: TestApi | undefined, db: TestDatabase | undefined): Promise<void> {
  await api?.app.close();
  await api?.admin.close();
  await db?.close();
}

/** Whether a new TCP connection to the port is accepted. */
export async function accepts(port: number): Promise<boolean> {
  const socket = connect(port, '127.0.0.1');
  try {
    await once(socket, 'connect');
    return true;
  } catch {
    return false;
  } finally {
    socket.destroy();
  }
}
