// Fleet mode: one warmer over several API processes behind one name. The name is served by a DNS
// responder the test controls; each API listens on its own 127.0.0.N with the SAME ports.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestDatabase, freePort, type TestDatabase, getJson, waitFor } from '@mokakbab/testkit';
import { startDnsResponder, type DnsResponder } from './helpers/dns-responder.js';
import { startApi, startWarmer, type ApiProcess, type WarmerProcess } from './helpers/processes.js';
import { holdSlots, uniqueSlotPrefix } from './helpers/slots.js';

const NAME = 'api.fleet.test';
const HOSTS = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];
const MIN_TARGETS = 2;
const prefix = uniqueSlotPrefix();
let db: TestDatabase;
let dns: DnsResponder;
let warmer: WarmerProcess;
const apis: ApiProcess[] = [];
let port: number;
let adminPort: number;

before(async () => {
  db = await createTestDatabase();
  dns = await startDnsResponder();
  dns.setAddresses(NAME, HOSTS.slice(0, 2));
  [port, adminPort] = [await freePort(), await freePort()];
});
after(async () => {
  await warmer?.stop();
  await Promise.all(apis.map((a) => a.stop()));
  await dns?.close();
  await db?.close();
});

const startReplica = async (host: string) => {
  const api = await startApi({ databaseUrl: db.url, host, port, adminPort });
  apis.push(api);
  return api;
};
type Reason = { id: string; phase: string; lastError: string };
const reasonsOf = async () => ((await warmer.ready()).body.reasons ?? []) as Reason[];

test('ready only after every replica behind the name is warm', async () => {
  await startReplica(HOSTS[0]!);
  warmer = await startWarmer({
    DATABASE_URL: db.url.href,
    WARMER_MODE: 'fleet',
    WARMER_FLEET_HOST: NAME,
    WARMER_DNS_SERVER: dns.server,
    WARMER_FLEET_ADMIN_PORT: String(adminPort),
    WARMER_FLEET_PUBLIC_PORT: String(port),
    WARMER_RESOLVE_INTERVAL_MS: '200',
    WARMER_FLEET_MIN_TARGETS: String(MIN_TARGETS),
    WARM_SLOTS: '1',
    WARM_SLOT_PREFIX: prefix,
  });

  // Two addresses, one replica up: that one warms, the other answers nothing, the warmer stays unready.
  const status = await waitFor('one replica warm', async () => {
    const s = await warmer.status();
    return s.targets.some((t) => t.ready) ? s : undefined;
  });
  assert.deepEqual(
    status.targets.map((t) => t.id),
    HOSTS.slice(0, 2),
  );
  const notReady = await warmer.ready();
  assert.equal(notReady.status, 503);
  const reasons = notReady.body.reasons as Reason[];
  assert.deepEqual(
    reasons.map((r) => [r.id, r.phase]),
    [['127.0.0.3', 'waiting-for-admin']],
  );
  assert.match(reasons[0]!.lastError, /ECONNREFUSED/);

  const startedAt = Date.now();
  await startReplica(HOSTS[1]!);
  await waitFor('both replicas ready', async () => ((await warmer.ready()).status === 200 ? true : undefined));
  console.log(`[measure] fleet mode: second replica warm ${Date.now() - startedAt} ms after its start began`);
  assert.deepEqual((await warmer.ready()).body, { ready: true, targets: 2 });
});

test('a replica added to the name is found at the next resolution, warmed, and counted', async () => {
  const third = await startReplica(HOSTS[2]!);
  // Holding the only slot keeps the new target cold, so the state in between is observable.
  const release = await holdSlots(db, prefix, 1);
  after(release);
  dns.setAddresses(NAME, HOSTS);
  const waiting = await waitFor('the third target waiting for a slot', async () => {
    const r = await reasonsOf();
    return r.length === 1 && r[0]!.phase === 'waiting-for-slot' ? r : undefined;
  });
  assert.equal(waiting[0]!.id, HOSTS[2]);
  assert.equal((await warmer.ready()).status, 503);
  assert.deepEqual(
    (await warmer.status()).targets.map((t) => [t.id, t.ready]),
    [
      [HOSTS[0], true],
      [HOSTS[1], true],
      [HOSTS[2], false],
    ],
  );

  await release();
  await waitFor('three targets ready', async () => ((await warmer.ready()).status === 200 ? true : undefined));
  assert.deepEqual((await warmer.ready()).body, { ready: true, targets: 3 });
  const pool = (await getJson<{ total: number; target: number; warm: boolean }>(`${third.adminUrl}/pool`)).body;
  assert.equal(pool.warm, true);
  assert.equal(pool.total, pool.target);
});

test('addresses that leave the name are dropped; below WARMER_FLEET_MIN_TARGETS /ready is 503', async () => {
  dns.setAddresses(NAME, HOSTS.slice(0, 2));
  await waitFor('two targets', async () => ((await warmer.status()).targets.length === 2 ? true : undefined));
  assert.deepEqual((await warmer.ready()).body, { ready: true, targets: 2 });

  // A crashed replica is no address at all: the one that is left is ready, the fleet is not.
  dns.setAddresses(NAME, HOSTS.slice(0, 1));
  await waitFor('one target', async () => ((await warmer.status()).targets.length === 1 ? true : undefined));
  const ready = await warmer.ready();
  assert.equal(ready.status, 503);
  assert.deepEqual(
    (ready.body.reasons as Reason[]).map((r) => [r.id, r.lastError]),
    [['discovery', `1 of at least ${MIN_TARGETS} replicas found (WARMER_FLEET_MIN_TARGETS)`]],
  );
});
