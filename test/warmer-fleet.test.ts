// Fleet mode: one warmer over several API processes behind one name. The name is served by a DNS
// responder the test controls; each API listens on its own 127.0.0.N with the SAME ports.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestDatabase, freePort, type TestDatabase } from '@mokakbab/db';
import { startDnsResponder, type DnsResponder } from './helpers/dns-responder.js';
import { startApi, startWarmer, type ApiProcess, type WarmerProcess } from './helpers/processes.js';
import { uniqueSlotPrefix } from './helpers/slots.js';
import { getJson, waitFor } from './helpers/wait.js';

const NAME = 'api.fleet.test';
const HOSTS = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];
let db: TestDatabase;
let dns: DnsResponder;
let warmer: WarmerProcess;
const apis: ApiProcess[] = [];
let port: number;
let adminPort: number;

before(async () => {
  db = await createTestDatabase();
  dns = await startDnsResponder();
  dns.setAddresses(NAME, HOSTS);
  [port, adminPort] = [await freePort(), await freePort()];
});
after(async () => {
  await warmer?.stop();
  await Promise.all(apis.map((a) => a.stop()));
  await dns?.close();
  await db?.close();
});

const startReplica = (host: string) => startApi({ databaseUrl: db.url, host, port, adminPort });

test('ready only after every replica behind the name is warm', async () => {
  apis.push(...(await Promise.all(HOSTS.slice(0, 2).map(startReplica))));
  warmer = await startWarmer({
    DATABASE_URL: db.url.href,
    WARMER_MODE: 'fleet',
    WARMER_FLEET_HOST: NAME,
    WARMER_DNS_SERVER: dns.server,
    WARMER_FLEET_ADMIN_PORT: String(adminPort),
    WARMER_FLEET_PUBLIC_PORT: String(port),
    WARMER_RESOLVE_INTERVAL_MS: '200',
    WARM_SLOTS: '1',
    WARM_SLOT_PREFIX: uniqueSlotPrefix(),
  });

  // Two replicas up, the third address answers nothing: those two warm, the warmer stays unready.
  const status = await waitFor('two replicas warm', async () => {
    const s = await warmer.status();
    return s.targets.filter((t) => t.ready).length === 2 ? s : undefined;
  });
  assert.deepEqual(
    status.targets.map((t) => t.id),
    HOSTS,
  );
  const notReady = await warmer.ready();
  assert.equal(notReady.status, 503);
  const reasons = notReady.body.reasons as { id: string; phase: string; lastError: string }[];
  assert.deepEqual(
    reasons.map((r) => [r.id, r.phase]),
    [['127.0.0.4', 'waiting-for-admin']],
  );
  assert.match(reasons[0]!.lastError, /ECONNREFUSED/);

  const startedAt = Date.now();
  apis.push(await startReplica(HOSTS[2]!));
  await waitFor('the whole fleet ready', async () => ((await warmer.ready()).status === 200 ? true : undefined));
  console.log(`[measure] fleet mode: third replica warm ${Date.now() - startedAt} ms after its start began`);
  assert.deepEqual((await warmer.ready()).body, { ready: true, targets: 3 });
  for (const api of apis) {
    const pool = (await getJson<{ total: number; target: number; warm: boolean }>(`${api.adminUrl}/pool`)).body;
    assert.equal(pool.warm, true);
    assert.equal(pool.total, pool.target);
  }
});

test('an address that leaves the name is dropped at the next resolution', async () => {
  dns.setAddresses(NAME, HOSTS.slice(0, 2));
  await waitFor('two targets', async () => ((await warmer.status()).targets.length === 2 ? true : undefined));
  assert.deepEqual((await warmer.ready()).body, { ready: true, targets: 2 });
});
