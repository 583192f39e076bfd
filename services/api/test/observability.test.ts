// The metrics-only port (METRICS_PORT) and the opt-in access log (ACCESS_LOG).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { loadApiConfig } from '@mokakbab/config';
import type { TestDatabase } from '@mokakbab/testkit';
import { createLogger } from '../src/lifecycle/server-options.js';
import { shutdown } from '../src/lifecycle/shutdown.js';
import { buildInstances, listen } from '../src/lifecycle/instances.js';
import { build, seededDatabase, testEnv } from './helper.js';

let db: TestDatabase;

before(async () => {
  db = await seededDatabase({ members: 2, articles: 2, participations: 2 });
});
after(() => db?.close());

test('METRICS_PORT serves GET /metrics and nothing else; the admin port keeps /pool; closing admin closes it', async () => {
  const config = loadApiConfig(
    testEnv(db, { METRICS_HOST: '127.0.0.1', METRICS_PORT: '0', ADMIN_PORT: '0', PORT: '0' }),
  );
  const instances = await buildInstances(config, createLogger(config));
  const { port, adminPort, metricsPort } = await listen(instances, config);
  try {
    assert.ok(metricsPort && metricsPort !== adminPort && metricsPort !== port);
    const metrics = `http://127.0.0.1:${metricsPort}`;
    const scrape = await fetch(`${metrics}/metrics`);
    assert.equal(scrape.status, 200);
    assert.match(scrape.headers.get('content-type') ?? '', /^text\/plain/);
    assert.match(await scrape.text(), /^db_pool_target_connections \d+$/m);
    for (const [method, path] of [
      ['GET', '/pool'],
      ['POST', '/pool/warm'],
      ['GET', '/health/ready'],
      ['GET', '/articles'],
    ] as const) {
      const res = await fetch(`${metrics}${path}`, { method });
      assert.equal(res.status, 404, `${method} ${path} is not on the metrics port`);
      await res.body?.cancel();
    }
    assert.equal((await fetch(`http://127.0.0.1:${adminPort}/pool`)).status, 200);
  } finally {
    await shutdown(instances.app, instances.admin, { delayMs: 0 });
  }
  assert.equal(instances.metrics?.server.listening, false, 'the metrics port closed with the admin port');
});

test('without METRICS_PORT there is no metrics listener', async (t) => {
  const config = loadApiConfig(testEnv(db));
  assert.equal(config.metricsPort, undefined);
  const built = await buildInstances(config, createLogger(config));
  t.after(async () => {
    await built.app.close();
    await built.admin.close();
  });
  assert.equal(built.metrics, undefined);
});

/** Log lines of an instance built with `env`, after one GET /articles/1 (a route that ignores the header sent). */
async function linesAfterOneRequest(t: Parameters<typeof build>[0], env: Record<string, string>) {
  const logLines: string[] = [];
  const api = await build(t, db, { env, logLines });
  const before = logLines.length;
  const res = await api.app.inject({ method: 'GET', url: '/articles/1', headers: { authorization: 'x' } });
  assert.equal(res.statusCode, 200);
  return logLines.slice(before).map((line) => JSON.parse(line) as Record<string, unknown>);
}

test('ACCESS_LOG=true logs one info line per request, without headers', async (t) => {
  const lines = await linesAfterOneRequest(t, { ACCESS_LOG: 'true', LOG_LEVEL: 'info' });
  const access = lines.filter((l) => l.msg === 'request completed');
  assert.equal(access.length, 1);
  assert.equal(access[0]!.level, 30);
  assert.equal(access[0]!.url, '/articles/1');
  assert.equal(access[0]!.statusCode, 200);
  assert.equal(typeof access[0]!.responseTimeMs, 'number');
  assert.doesNotMatch(JSON.stringify(access[0]), /authorization/i);
});

test('ACCESS_LOG off (the default) logs no line per request', async (t) => {
  const lines = await linesAfterOneRequest(t, { LOG_LEVEL: 'info' });
  assert.deepEqual(
    lines.filter((l) => l.msg === 'request completed'),
    [],
  );
});
