import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  apiVars,
  connectionOptions,
  databaseVars,
  redactUrl,
  ConfigError,
  envTable,
  loadApiConfig,
  loadWarmerConfig,
  planApiPool,
  readEnv,
  warmerConfigVars,
} from '../src/index.js';

const SECRET = 'x'.repeat(32);
const base = { DATABASE_URL: 'mysql://app:pw@db:3306/mokakbab', JWT_SECRET: SECRET };

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return [...err.problems];
  }
  assert.fail('expected a ConfigError');
}

describe('API configuration', () => {
  test('defaults fill every optional variable', () => {
    const c = loadApiConfig(base);
    assert.equal(c.port, 3000);
    assert.equal(c.adminPort, 3001);
    assert.equal(c.adminHost, '127.0.0.1');
    assert.equal(c.maxConnections, 'auto');
    assert.equal(c.warmOnBoot, true);
    assert.equal(c.poolSize, undefined);
    assert.equal(c.jwtAlgorithm, 'HS256');
    assert.deepEqual(c.maxSurge, { kind: 'count', value: 0 });
    assert.equal(c.databaseUrl.hostname, 'db');
  });

  test('the shed delay stays below the overload Retry-After and the request timeout', () => {
    assert.equal(loadApiConfig({ ...base, SHED_DELAY_MS: '0' }).shedDelayMs, 0);
    assert.equal(loadApiConfig({ ...base, SHED_DELAY_MS: '999' }).shedDelayMs, 999);
    assert.match(
      problems(() => loadApiConfig({ ...base, SHED_DELAY_MS: '1000' })).join('\n'),
      /SHED_DELAY_MS \(1000\)/,
    );
    assert.match(
      problems(() =>
        loadApiConfig({
          ...base,
          SHED_DELAY_MS: '500',
          REQUEST_TIMEOUT_MS: '500',
          DB_ACQUIRE_TIMEOUT_MS: '200',
          DB_CONNECT_TIMEOUT_MS: '100',
          DB_QUERY_TIMEOUT_MS: '200',
        }),
      ).join('\n'),
      /SHED_DELAY_MS \(500\).*REQUEST_TIMEOUT_MS \(500\)/,
    );
  });

  test('parses every form', () => {
    const c = loadApiConfig({
      ...base,
      PORT: '8080',
      WARM_ON_BOOT: 'false',
      DB_MAX_CONNECTIONS: '300',
      DB_MAX_SURGE: '25%',
      DB_POOL_SIZE: '12',
      DB_PLAN_CHECK: 'warn',
    });
    assert.equal(c.port, 8080);
    assert.equal(c.warmOnBoot, false);
    assert.equal(c.maxConnections, 300);
    assert.deepEqual(c.maxSurge, { kind: 'percent', value: 25 });
    assert.equal(c.poolSize, 12);
    assert.equal(c.planCheck, 'warn');
  });

  test('read replicas: a comma-separated list, none by default; DB_REPLICAS_REQUIRED cannot exceed it', () => {
    assert.deepEqual(loadApiConfig(base).replicaUrls, []);
    const c = loadApiConfig({
      ...base,
      DATABASE_REPLICA_URLS: 'mysql://app:pw@r1:3306/mokakbab, mysql://app:pw@r2:3306/mokakbab',
      DB_REPLICAS_REQUIRED: '1',
      REPLICA_MAX_LAG_MS: '500',
    });
    assert.deepEqual(
      c.replicaUrls.map((u) => u.host),
      ['r1:3306', 'r2:3306'],
    );
    assert.equal(c.replicasRequired, 1);
    assert.equal(c.replicaMaxLagMs, 500);
    const [tooMany] = problems(() =>
      loadApiConfig({ ...base, DATABASE_REPLICA_URLS: 'mysql://app:pw@r1/mokakbab', DB_REPLICAS_REQUIRED: '2' }),
    );
    assert.match(tooMany!, /DB_REPLICAS_REQUIRED \(2\) is above the 1 servers/);
    const [bad] = problems(() => loadApiConfig({ ...base, DATABASE_REPLICA_URLS: 'mysql://app:secretpw@r1/' }));
    assert.match(bad!, /^DATABASE_REPLICA_URLS=\(value hidden\) names no database/);
  });

  test('a missing variable names itself and its expected form', () => {
    const [p] = problems(() => loadApiConfig({ JWT_SECRET: SECRET }));
    assert.match(p!, /^DATABASE_URL is required: .* Expected mysql:\/\/user:password@host:port\/database\.$/);
  });

  test('malformed values name the variable, the value and the expected form; all are reported at once', () => {
    const ps = problems(() =>
      loadApiConfig({
        ...base,
        PORT: 'eighty',
        DB_POOL_SIZE: '0',
        WARM_ON_BOOT: 'maybe',
        DB_MAX_SURGE: '1.5',
        DB_PLAN_CHECK: 'ignore',
      }),
    );
    assert.equal(ps.length, 5);
    assert.ok(ps.includes('PORT="eighty" is not an integer; expected an integer from 0 to 65535.'));
    assert.ok(ps.includes('DB_POOL_SIZE="0" is out of range; expected an integer >= 1.'));
    assert.ok(ps.some((p) => p.startsWith('WARM_ON_BOOT="maybe" is not a boolean')));
    assert.ok(ps.some((p) => p.startsWith('DB_MAX_SURGE="1.5"')));
    assert.ok(
      ps.some((p) => p.startsWith('DB_PLAN_CHECK="ignore" is not an allowed value; expected one of refuse, warn')),
    );
  });

  test('secrets are never echoed', () => {
    const ps = problems(() => loadApiConfig({ DATABASE_URL: 'postgres://u:hunter2@h/db', JWT_SECRET: 'short-secret' }));
    assert.equal(ps.length, 2);
    for (const p of ps) {
      assert.doesNotMatch(p, /hunter2|short-secret/);
      assert.match(p, /\(value hidden\)/);
    }
  });

  test('cross-variable rules: JWT keys for the algorithm, timeouts, jitter', () => {
    assert.match(
      problems(() => loadApiConfig({ DATABASE_URL: base.DATABASE_URL }))[0]!,
      /JWT_SECRET is required for JWT_ALGORITHM=HS256/,
    );
    assert.match(
      problems(() => loadApiConfig({ ...base, JWT_ALGORITHM: 'RS256' }))[0]!,
      /JWT_PUBLIC_KEY and JWT_PRIVATE_KEY .*JWT_ALGORITHM=RS256/,
    );
    const ps = problems(() =>
      loadApiConfig({
        ...base,
        DB_CONNECT_TIMEOUT_MS: '3000',
        DB_ACQUIRE_TIMEOUT_MS: '3000',
        DB_LIFETIME_JITTER_MS: '400000',
      }),
    );
    assert.ok(ps.some((p) => p.includes('connect timeout 3000 ms must be below acquire timeout 3000 ms')));
    assert.ok(ps.some((p) => p.startsWith('DB_LIFETIME_JITTER_MS (400000) must be below DB_MAX_LIFETIME_MS')));
  });
});

describe('the API pool against the server it found', () => {
  const server = { maxConnections: 151, waitTimeoutS: 28_800, version: '8.4.0' };

  test('auto uses the server max_connections', () => {
    const d = planApiPool(loadApiConfig({ ...base, DB_REPLICAS: '3', DB_MAX_SURGE: '1' }), server);
    assert.equal(d.size, 35);
    assert.deepEqual(d.problems, []);
  });

  test('DB_POOL_SIZE above the plan is a problem with the numbers', () => {
    const d = planApiPool(loadApiConfig({ ...base, DB_REPLICAS: '3', DB_POOL_SIZE: '60' }), server);
    assert.equal(d.size, 60);
    assert.equal(d.problems.length, 1);
    assert.match(
      d.problems[0]!,
      /DB_POOL_SIZE=60 is above the plan's 46 per instance \(max_connections 151, 3 instances at peak\)/,
    );
  });

  test('one instance uses its whole budget (no headroom); a DB_POOL_SIZE below the plan drops that warning', () => {
    const planned = planApiPool(loadApiConfig(base), server);
    assert.equal(planned.plan.headroom, 0);
    assert.ok(planned.warnings.some((w) => w.includes('no headroom')));
    const sized = planApiPool(loadApiConfig({ ...base, DB_POOL_SIZE: '10' }), server);
    assert.equal(sized.size, 10);
    assert.deepEqual(sized.warnings, []);
  });

  test('a configured max_connections above the real one is a problem, and the smaller one is planned', () => {
    const d = planApiPool(loadApiConfig({ ...base, DB_MAX_CONNECTIONS: '1000' }), server);
    assert.match(d.problems[0]!, /DB_MAX_CONNECTIONS=1000 but the server's max_connections is 151/);
    assert.equal(d.plan.maxConnections, 151);
  });

  test("a lifetime beyond the server's wait_timeout is a problem", () => {
    const d = planApiPool(loadApiConfig(base), { ...server, waitTimeoutS: 60 });
    assert.match(d.problems[0]!, /DB_MAX_LIFETIME_MS: max lifetime 300000 ms must be below wait_timeout 60 s/);
  });
});

describe('warmer configuration', () => {
  const db = { DATABASE_URL: base.DATABASE_URL };

  test('sidecar needs a target; the public URL defaults to the API port on the same host', () => {
    assert.match(problems(() => loadWarmerConfig(db))[0]!, /WARMER_TARGET is required in sidecar mode/);
    const c = loadWarmerConfig({ ...db, WARMER_TARGET: 'http://127.0.0.1:3001' });
    assert.equal(c.targetPublic?.href, 'http://127.0.0.1:3000/');
    assert.equal(c.warmSlots, 1);
  });

  test('fleet needs a host; bad URLs and K < 1 are named', () => {
    assert.match(
      problems(() => loadWarmerConfig({ ...db, WARMER_MODE: 'fleet' }))[0]!,
      /WARMER_FLEET_HOST is required/,
    );
    const ps = problems(() => loadWarmerConfig({ ...db, WARMER_TARGET: 'ftp://x', WARM_SLOTS: '0' }));
    assert.ok(ps.some((p) => p.startsWith('WARMER_TARGET="ftp://x" has protocol ftp:')));
    assert.ok(ps.some((p) => p.startsWith('WARM_SLOTS="0" is out of range')));
  });
});

describe('the variable table', () => {
  test('lists every variable once with its default', () => {
    const table = envTable({ API: apiVars, Warmer: warmerConfigVars });
    for (const spec of [...Object.values(apiVars), ...Object.values(warmerConfigVars)]) {
      assert.ok(table.includes(`| \`${spec.name}\` |`), spec.name);
    }
    assert.match(table, /\| `PORT` \| `3000` \|/);
    assert.match(table, /\| `DATABASE_URL` \| \*\*required\*\* \|/);
  });

  test('variable names are unique across groups unless shared on purpose', () => {
    const names = new Map<string, unknown>();
    for (const specs of [apiVars, warmerConfigVars]) {
      for (const spec of Object.values(specs)) {
        const seen = names.get(spec.name);
        assert.ok(seen === undefined || seen === spec, `${spec.name} declared twice`);
        names.set(spec.name, spec);
      }
    }
  });

  test('readEnv treats an empty value as unset', () => {
    assert.equal(readEnv({ port: apiVars.port }, { PORT: '' }).port, 3000);
  });
});

describe('connectionOptions (DATABASE_URL -> mysql2)', () => {
  const opts = (url: string) => connectionOptions(new URL(url));

  test('reads every part, decodes the password, and pins dates to UTC', () => {
    const o = opts('mysql://app:p%40ss@db.internal:3307/mokakbab');
    assert.deepEqual(
      { host: o.host, port: o.port, user: o.user, password: o.password, database: o.database, timezone: o.timezone },
      { host: 'db.internal', port: 3307, user: 'app', password: 'p@ss', database: 'mokakbab', timezone: 'Z' },
    );
    assert.equal(o.ssl, undefined);
    assert.equal(opts('mysql://u@h/d').port, 3306);
  });

  test('?ssl=true and VERIFY_* verify the certificate; only ssl-mode=REQUIRED encrypts without checking', () => {
    assert.deepEqual(opts('mysql://u@h/d?ssl=true').ssl, { rejectUnauthorized: true });
    assert.deepEqual(opts('mysql://u@h/d?ssl-mode=VERIFY_IDENTITY').ssl, { rejectUnauthorized: true });
    assert.deepEqual(opts('mysql://u@h/d?ssl-mode=verify_ca').ssl, { rejectUnauthorized: true });
    assert.deepEqual(opts('mysql://u@h/d?ssl-mode=REQUIRED').ssl, { rejectUnauthorized: false });
    assert.equal(opts('mysql://u@h/d?ssl-mode=DISABLED').ssl, undefined);
  });

  test('DATABASE_CA, as a PEM or a path, is the CA the certificate is verified against; set, it means verified TLS', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    assert.deepEqual(connectionOptions(new URL('mysql://u@h/d?ssl=true'), pem).ssl, {
      rejectUnauthorized: true,
      ca: pem,
    });
    assert.deepEqual(connectionOptions(new URL('mysql://u@h/d'), pem).ssl, { rejectUnauthorized: true, ca: pem });
    const file = join(mkdtempSync(join(tmpdir(), 'ca-')), 'ca.pem');
    writeFileSync(file, pem);
    assert.deepEqual(connectionOptions(new URL('mysql://u@h/d'), file).ssl, { rejectUnauthorized: true, ca: pem });
    // Asking for encryption without verification by name still means that.
    assert.deepEqual(connectionOptions(new URL('mysql://u@h/d?ssl-mode=REQUIRED'), pem).ssl, {
      rejectUnauthorized: false,
    });
    assert.equal(readEnv(databaseVars, { DATABASE_URL: 'mysql://u@h/d', DATABASE_CA: file }).databaseCa, file);
  });

  test('redactUrl hides the password', () => {
    assert.equal(redactUrl(new URL('mysql://app:secret@h:3306/d')), 'mysql://app:***@h:3306/d');
  });
});

describe('PASSWORD_SCRYPT_COST', () => {
  test('must be a power of two', () => {
    assert.equal(loadApiConfig({ ...base, PASSWORD_SCRYPT_COST: '1024' }).scryptCost, 1024);
    assert.match(
      problems(() => loadApiConfig({ ...base, PASSWORD_SCRYPT_COST: '1000' }))[0]!,
      /^PASSWORD_SCRYPT_COST="1000" is not a power of two; expected a power of two >= 2/,
    );
  });
});
