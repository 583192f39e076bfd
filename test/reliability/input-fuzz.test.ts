// F1/F8 (issue 8): no input gets a 5xx and none is silently coerced. First the reported vectors one by
// one, then fast-check throws generated values at every route the app documents (discovered from its
// OpenAPI document, so routes added later are fuzzed too) and checks: never 5xx, and on a 4xx every
// table's checksum is unchanged.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import type { TestDatabase } from '@mokakbab/testkit';
import { bearer, build, closeAll, errorBody, seededDatabase, type TestApi } from '@mokakbab/api/test/helper';
import { accessTokenFor } from '@mokakbab/api/test/helper-tokens';

const MEMBERS = 5;
const ARTICLES = 30;
// Modest and seeded: the same cases every run, a few seconds in CI.
const RUNS_PER_ROUTE = 40;
const SEED = 8;

let db: TestDatabase;
let api: TestApi;

before(async () => {
  db = await seededDatabase({ members: MEMBERS, articles: ARTICLES, participations: 60 });
  api = await build(undefined, db);
});

after(() => closeAll(api, db));

async function tableChecksums(): Promise<string> {
  const tables = await db.query('SHOW TABLES');
  const names = tables.map((row) => `\`${String(Object.values(row)[0])}\``);
  const rows = await db.query(`CHECKSUM TABLE ${names.join(', ')}`);
  return JSON.stringify(rows.map((row) => [row.Table, row.Checksum]));
}

// Minted, not signed in: generated PATCH and DELETE /members/:id bodies change passwords and delete
// members, after which a sign-in with the seeded password would fail.
const token = async (memberId = 1) => accessTokenFor(api.app, memberId);

test('F1: ids, cursors and limits that are not canonical decimal digits get 400 naming the field', async () => {
  const auth = bearer(await token());
  const bad = ['Infinity', '1e400', '0x1f', '%201', '1.0', '-0', '1e1', '-1', '4294967296', '99999999999999999999'];
  const cases: Array<{ url: string; method?: 'GET' | 'DELETE'; field: string }> = [];
  for (const value of bad) {
    cases.push(
      { url: `/articles/${value}`, field: 'params/id' },
      { url: `/members/${value}`, field: 'params/id' },
      { url: `/participations/${value}`, method: 'DELETE', field: 'params/id' },
      { url: `/participations/articles/${value}`, field: 'params/articleId' },
      { url: `/articles?limit=${value}`, field: 'querystring/limit' },
      { url: `/articles?cursor=${value}`, field: 'querystring/cursor' },
    );
  }
  cases.push(
    { url: '/articles?limit=', field: 'querystring/limit' },
    { url: '/articles?cursor=', field: 'querystring/cursor' },
    { url: '/articles?limit=1&limit=2', field: 'querystring/limit' },
  );
  for (const { url, method = 'GET', field } of cases) {
    const res = await api.app.inject({ method, url, headers: auth });
    assert.equal(res.statusCode, 400, `${method} ${url}: ${res.body}`);
    assert.match(errorBody(res).message, new RegExp(`^${field} `), `${method} ${url}`);
  }
  // The canonical forms still work.
  assert.equal((await api.app.inject({ url: '/articles/1' })).statusCode, 200);
  assert.equal((await api.app.inject({ url: '/articles?limit=50&cursor=4294967295' })).statusCode, 200);
  console.log(`[measure] F1: ${cases.length} non-canonical ids/cursors/limits -> ${cases.length} x 400, 0 x 5xx`);
});

test('F8: JSON bodies are not coerced, and strings the database would change are 400', async () => {
  const auth = { ...bearer(await token(2)), 'content-type': 'application/json' };
  const before = await tableChecksums();
  const bodies = [
    '{"articleId": true}',
    '{"articleId": "0x1f"}',
    '{"articleId": [33]}',
    '{"articleId": "1e1"}',
    '{"articleId": "7"}',
    '{"articleId": 1e400}',
    '{"articleId": 7.5}',
    '{"articleId": null}',
  ];
  for (const payload of bodies) {
    const res = await api.app.inject({ method: 'POST', url: '/participations', headers: auth, payload });
    assert.equal(res.statusCode, 400, `${payload}: ${res.body}`);
    assert.match(errorBody(res).message, /^body\/articleId /, payload);
  }
  const loneSurrogate = await api.app.inject({
    method: 'POST',
    url: '/auth/sign-up',
    payload: { email: 'lone@example.com', password: 'password-lone', name: 'a\ud800b', nickname: 'lone' },
  });
  assert.equal(loneSurrogate.statusCode, 400, loneSurrogate.body);
  assert.match(errorBody(loneSurrogate).message, /^body\/name must be well-formed Unicode/);
  assert.equal(await tableChecksums(), before, 'no rejected body wrote anything');
  console.log(`[measure] F8: ${bodies.length + 1} coercible or ill-formed bodies -> 400, tables unchanged`);
});

test('F8: NUL and 4-byte characters are stored and echoed identically (utf8mb4)', async () => {
  const name = 'a\u0000b 😀';
  const nickname = '🍜\u0000';
  const res = await api.app.inject({
    method: 'POST',
    url: '/auth/sign-up',
    payload: { email: 'utf8@example.com', password: 'password-utf8', name, nickname },
  });
  assert.equal(res.statusCode, 201, res.body);
  const created = res.json<{ id: number; name: string; nickname: string }>();
  assert.equal(created.name, name);
  const signedIn = await api.app.inject({
    method: 'POST',
    url: '/auth/sign-in',
    payload: { email: 'utf8@example.com', password: 'password-utf8' },
  });
  const { accessToken } = signedIn.json<{ accessToken: string }>();
  const profile = await api.app.inject({ url: `/members/${created.id}`, headers: bearer(accessToken) });
  assert.equal(profile.statusCode, 200);
  assert.deepEqual(
    { name: profile.json<{ name: string }>().name, nickname: profile.json<{ nickname: string }>().nickname },
    { name, nickname },
  );
});

// ---- the property-based part ----

interface JsonSchema {
  type?: string | string[];
  format?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  enum?: unknown[];
  const?: unknown;
}

interface Operation {
  parameters?: Array<{ in: 'path' | 'query' | 'header'; name: string; schema: JsonSchema }>;
  requestBody?: { content?: Record<string, { schema: JsonSchema }> };
  security?: unknown[];
}

interface Route {
  method: string;
  path: string;
  operation: Operation;
}

function documentedRoutes(): Route[] {
  const doc = api.app.swagger() as { paths: Record<string, Record<string, Operation>> };
  return Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({ method: method.toUpperCase(), path, operation })),
  );
}

// What the reports used, and the usual suspects of loose parsing.
const HOSTILE_STRINGS = [
  'Infinity',
  '-Infinity',
  '1e400',
  '1e1',
  '0x1f',
  '0b1',
  ' 1',
  '1 ',
  '1.0',
  '-0',
  '-1',
  '0',
  '',
  '+1',
  '01',
  '4294967296',
  '9007199254740993',
  'NaN',
  'null',
  'true',
  '\u0000',
  '\ud800',
  '😀',
  '1,2',
];
const HOSTILE_JSON: unknown[] = [
  true,
  false,
  null,
  [33],
  '1e1',
  '0x1f',
  7.5,
  -1,
  0,
  2 ** 32,
  {},
  [],
  ...HOSTILE_STRINGS,
];

const stringArb = (schema: JsonSchema): fc.Arbitrary<string> => {
  if (schema.format === 'email') return fc.emailAddress();
  if (schema.format === 'date-time') {
    return fc
      .date({ min: new Date('0900-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true })
      .map((d) => d.toISOString());
  }
  return fc.string({
    minLength: schema.minLength ?? 0,
    maxLength: Math.min(schema.maxLength ?? 64, 64),
    unit: 'binary',
  });
};

/** Values of the schema's type, mostly valid, so that requests also get past validation. */
function validArb(schema: JsonSchema): fc.Arbitrary<unknown> {
  if (schema.enum) return fc.constantFrom(...schema.enum);
  if (schema.const !== undefined) return fc.constant(schema.const);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'integer':
      // Small ids hit seeded rows; the bounds themselves are the interesting edges.
      return fc.oneof(
        fc.integer({ min: 1, max: ARTICLES + 5 }),
        fc.constantFrom(schema.minimum ?? 0, schema.maximum ?? 2 ** 31, (schema.maximum ?? 2 ** 31) + 1),
      );
    case 'number':
      return fc.double({ noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'string':
      return stringArb(schema);
    case 'object':
      return bodyArb(schema);
    default:
      return fc.jsonValue();
  }
}

const anyValueArb = (schema: JsonSchema): fc.Arbitrary<unknown> =>
  fc.oneof(
    { arbitrary: validArb(schema), weight: 4 },
    { arbitrary: fc.constantFrom(...HOSTILE_JSON), weight: 2 },
    { arbitrary: fc.jsonValue({ maxDepth: 2 }), weight: 1 },
  );

function bodyArb(schema: JsonSchema): fc.Arbitrary<Record<string, unknown>> {
  const properties = schema.properties ?? {};
  const shape = Object.fromEntries(Object.entries(properties).map(([key, prop]) => [key, anyValueArb(prop)]));
  return fc
    .tuple(
      fc.record(shape, { requiredKeys: schema.required ?? [] }),
      fc.option(fc.tuple(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 }))),
    )
    .map(([body, extra]) => (extra ? { ...body, [extra[0]]: extra[1] } : body));
}

/** A path or query value as it appears in the URL: canonical digits, hostile strings, anything. */
const urlValueArb = (schema: JsonSchema): fc.Arbitrary<string> =>
  fc.oneof(
    { arbitrary: validArb(schema).map(String), weight: 3 },
    { arbitrary: fc.constantFrom(...HOSTILE_STRINGS), weight: 3 },
    { arbitrary: fc.string({ maxLength: 12, unit: 'binary' }), weight: 1 },
  );

/** URL-encodes like a client would; a lone surrogate cannot be, so it goes as the raw UTF-8 of U+FFFD's bytes. */
const encode = (value: string) => (/\p{Cs}/u.test(value) ? '%ED%A0%80' : encodeURIComponent(value));

interface Generated {
  path: Record<string, string>;
  query: Array<[string, string]>;
  body: { json: unknown } | { raw: string } | undefined;
  authenticated: boolean;
}

const RAW_BODIES = ['{"articleId": 1e400}', '{"a":', '[]', 'null', '"x"', '{"__proto__": {"x": 1}}', ''];

function requestArb(route: Route): fc.Arbitrary<Generated> {
  const params = route.operation.parameters ?? [];
  const path = fc.record(
    Object.fromEntries(params.filter((p) => p.in === 'path').map((p) => [p.name, urlValueArb(p.schema)])),
  );
  const queryParams = params.filter((p) => p.in === 'query');
  const queryEntry =
    queryParams.length > 0
      ? fc.oneof(
          fc.constantFrom(...queryParams).chain((p) => urlValueArb(p.schema).map((v): [string, string] => [p.name, v])),
          fc.tuple(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 })),
        )
      : fc.tuple(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 }));
  const bodySchema = route.operation.requestBody?.content?.['application/json']?.schema;
  const body = bodySchema
    ? fc.oneof(
        { arbitrary: bodyArb(bodySchema).map((json) => ({ json })), weight: 8 },
        { arbitrary: fc.constantFrom(...HOSTILE_JSON).map((json) => ({ json })), weight: 1 },
        { arbitrary: fc.constantFrom(...RAW_BODIES).map((raw) => ({ raw })), weight: 1 },
      )
    : fc.constant(undefined);
  return fc.record({
    path,
    query: fc.array(queryEntry, { maxLength: 3 }),
    body,
    authenticated: fc.boolean().map((b) => b || route.operation.security === undefined),
  });
}

function toUrl(route: Route, generated: Generated): string {
  const path = route.path.replace(/\{(\w+)\}/g, (_m, name: string) => encode(generated.path[name] ?? ''));
  const query = generated.query.map(([k, v]) => `${encode(k)}=${encode(v)}`).join('&');
  return query ? `${path}?${query}` : path;
}

test('fuzz: generated params, queries and bodies at every documented route: never 5xx, nothing written on a 4xx', async () => {
  const routes = documentedRoutes();
  assert.ok(routes.length >= 10, `routes found in the OpenAPI document: ${routes.length}`);
  let requests = 0;
  let rejected = 0;
  const statuses = new Map<number, number>();
  for (const [index, route] of routes.entries()) {
    await fc.assert(
      fc.asyncProperty(requestArb(route), async (generated) => {
        // A fresh token per case: sign-out in an earlier case revokes the one it used.
        const headers: Record<string, string> = generated.authenticated
          ? bearer(await token(1 + (requests % MEMBERS)))
          : {};
        let payload: string | undefined;
        if (generated.body !== undefined) {
          headers['content-type'] = 'application/json';
          payload = 'raw' in generated.body ? generated.body.raw : JSON.stringify(generated.body.json);
        }
        const url = toUrl(route, generated);
        const checksum = await tableChecksums();
        const res = await api.app.inject({
          method: route.method as 'GET',
          url,
          headers,
          ...(payload === undefined ? {} : { payload }),
        });
        requests++;
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        assert.ok(res.statusCode < 500, `${route.method} ${url} ${payload ?? ''} -> ${res.statusCode} ${res.body}`);
        if (res.statusCode >= 400) {
          rejected++;
          assert.equal(await tableChecksums(), checksum, `${route.method} ${url} ${payload ?? ''}: a 4xx wrote`);
        }
      }),
      { numRuns: RUNS_PER_ROUTE, seed: SEED + index, endOnFailure: true },
    );
  }
  const summary = [...statuses].sort(([a], [b]) => a - b).map(([status, n]) => `${status}x${n}`);
  console.log(
    `[measure] input fuzz: ${routes.length} routes, ${requests} requests, ${rejected} x 4xx with tables unchanged, 0 x 5xx (${summary.join(' ')})`,
  );
});
