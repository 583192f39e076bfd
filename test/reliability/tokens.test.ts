// Token tables under abuse and deleted members (issue 8, F7 and F9), against real API processes on
// one real database:
// - F7: one member looping refresh + sign-out, another signing in again and again: both tables stay
//   under JWT_MAX_SESSIONS_PER_MEMBER per member however long the loop runs, so what a new instance
//   loads at warm-up does not grow with history either;
// - F9: an operator's raw DELETE FROM member: that member's access token gets 401 on every
//   authenticated route of both instances within the denylist poll interval.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { seededMember } from '@mokakbab/db';
import { createTestDatabase, type TestDatabase, getJson, waitFor } from '@mokakbab/testkit';
import { startApi, type ApiProcess } from '../helpers/processes.js';

const MAX_SESSIONS = 5;
const LOOP_ROUNDS = 60;
/** The denylist polls every second; generous for a loaded CI machine. */
const POLL_BOUND_MS = 10_000;

interface TokenPair {
  accessToken: string;
  refreshToken: string;
}

let db: TestDatabase;
const apis: ApiProcess[] = [];

async function startReadyApi(): Promise<ApiProcess> {
  const api = await startApi({
    databaseUrl: db.url,
    env: {
      WARM_ON_BOOT: 'true',
      DB_POOL_SIZE: '4',
      PASSWORD_SCRYPT_COST: '16',
      JWT_MAX_SESSIONS_PER_MEMBER: String(MAX_SESSIONS),
      // One client loops on purpose here; the rate limits have their own test.
      RATE_LIMIT_AUTH_IP_MAX: '100000',
      RATE_LIMIT_AUTH_ACCOUNT_MAX: '100000',
      LOG_LEVEL: 'info',
    },
  });
  apis.push(api);
  await waitFor(
    'the API to be ready',
    async () => ((await getJson(`${api.url}/health/ready`)).status === 200 ? true : undefined),
    30_000,
  );
  return api;
}

function post<T>(api: ApiProcess, path: string, body: unknown, token?: string) {
  return getJson<T>(`${api.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
}

async function signIn(api: ApiProcess, credentials: { email: string; password: string }): Promise<TokenPair> {
  const res = await post<TokenPair>(api, '/auth/sign-in', credentials);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

async function count(sql: string, params: unknown[] = []): Promise<number> {
  const [row] = await db.query<Array<{ n: number }>>(sql, params);
  return Number(row!.n);
}

const liveDenylistRows = () =>
  count('SELECT COUNT(*) AS n FROM access_token_denylist WHERE expires_at > UTC_TIMESTAMP(3)');

before(async () => {
  db = await createTestDatabase();
  await db.seed({ members: 10, articles: 5, participations: 10 });
});

after(async () => {
  await Promise.all(apis.map((a) => a.stop()));
  await db?.close();
});

describe('F7: token tables stay bounded', () => {
  test('sign-in + refresh + sign-out rounds and repeated sign-ins keep both tables under the session limit per member', async () => {
    const api = await startReadyApi();
    let pair = await signIn(api, seededMember(1));
    const bounds: Array<{ round: number; refresh: number; denylist: number }> = [];
    for (let round = 1; round <= LOOP_ROUNDS; round++) {
      // A sign-out without a body ends its session (the refresh token too): the next round signs in again.
      if (round > 1) pair = await signIn(api, seededMember(1));
      const refreshed = await post<TokenPair>(api, '/auth/access-token', { refreshToken: pair.refreshToken });
      assert.equal(refreshed.status, 200, `refresh in round ${round}: ${JSON.stringify(refreshed.body)}`);
      pair = refreshed.body;
      // The sign-out that tips the member over the limit revokes all their tokens issued until then;
      // the next round's token is newer and works.
      const out = await post(api, '/auth/sign-out', {}, pair.accessToken);
      assert.equal(out.status, 204, `sign-out in round ${round}: ${JSON.stringify(out.body)}`);
      if (round % (LOOP_ROUNDS / 3) === 0) {
        bounds.push({
          round,
          refresh: await count('SELECT COUNT(*) AS n FROM refresh_token WHERE member_id = 1'),
          denylist: await liveDenylistRows(),
        });
      }
    }
    for (let i = 0; i < 3 * MAX_SESSIONS; i++) await signIn(api, seededMember(2));

    const refreshOfTwo = await count('SELECT COUNT(*) AS n FROM refresh_token WHERE member_id = 2');
    console.log(
      `# [measure] F7: ${LOOP_ROUNDS} sign-in + refresh + sign-out rounds, ` +
        `rows along the way ${JSON.stringify(bounds)}; ${3 * MAX_SESSIONS} sign-ins leave ${refreshOfTwo} refresh tokens ` +
        `(limit ${MAX_SESSIONS})`,
    );
    for (const b of bounds) {
      assert.equal(b.refresh, 0, 'the used refresh token went when the next was issued, the next with the sign-out');
      assert.ok(b.denylist <= MAX_SESSIONS + 1, `live denylist rows ${b.denylist} > ${MAX_SESSIONS + 1}`);
    }
    assert.equal(refreshOfTwo, MAX_SESSIONS);
    assert.equal(await count('SELECT COUNT(*) AS n FROM member_revocation WHERE member_id = 1'), 1);

    // What a new instance loads is what is live: bounded, whatever the history.
    const fresh = await startReadyApi();
    // Ready can answer before the process's stdout (pino writes asynchronously) reaches this one.
    await waitFor('the new instance to log its warm-up', () => fresh.logs.some((l) => l.msg === 'pool warm'));
    console.log(`# [measure] F7: a new instance became ready loading ${await liveDenylistRows()} live denylist rows`);
    await fresh.stop();
  });
});

describe('F9: a deleted member is locked out at once, fleet-wide', () => {
  test("an operator's DELETE FROM member: 401 on every authenticated route of both instances", async () => {
    const [a, b] = [await startReadyApi(), await startReadyApi()];
    const member = { email: 'to-be-deleted@example.com', password: 'a-password-123', name: 'Gone', nickname: 'gone' };
    const signedUp = await post<{ id: number }>(a, '/auth/sign-up', member);
    assert.equal(signedUp.status, 201, JSON.stringify(signedUp.body));
    const { accessToken } = await signIn(a, member);
    const id = signedUp.body.id;

    const routes: Array<{ method: string; path: string; body?: unknown }> = [
      { method: 'GET', path: `/members/${id}` },
      { method: 'GET', path: '/participations/articles/1' },
      { method: 'POST', path: '/participations', body: { articleId: 1 } },
      { method: 'DELETE', path: '/participations/1' },
      {
        method: 'POST',
        path: '/articles',
        body: {
          title: 't',
          content: 'c',
          categoryId: 1,
          regionId: 1,
          districtId: 1,
          startTime: '2030-01-01T18:00:00.000Z',
          endTime: '2030-01-01T20:00:00.000Z',
        },
      },
      { method: 'POST', path: '/auth/sign-out', body: {} },
    ];
    const call = (api: ApiProcess, route: (typeof routes)[number]) =>
      getJson(`${api.url}${route.path}`, {
        method: route.method,
        headers: {
          authorization: `Bearer ${accessToken}`,
          ...(route.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(route.body === undefined ? {} : { body: JSON.stringify(route.body) }),
      });
    for (const api of [a, b]) {
      assert.equal((await call(api, routes[0]!)).status, 200, 'the token works before the deletion');
    }

    await db.query('DELETE FROM member WHERE id = ?', [id]);
    const deletedAt = Date.now();
    const lockedOutMs: number[] = [];
    for (const api of [a, b]) {
      await waitFor(
        'the deleted member to be refused',
        async () => ((await call(api, routes[0]!)).status === 401 ? true : undefined),
        POLL_BOUND_MS,
      );
      lockedOutMs.push(Date.now() - deletedAt);
      for (const route of routes) {
        const res = await call(api, route);
        assert.equal(res.status, 401, `${route.method} ${route.path}: ${res.status} ${JSON.stringify(res.body)}`);
      }
    }
    console.log(
      `# [measure] F9: deleted member's token refused by instance A after ${lockedOutMs[0]} ms, B after ${lockedOutMs[1]} ms`,
    );
  });
});
