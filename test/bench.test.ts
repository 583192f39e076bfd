// The bench's machinery on fixed inputs: flags, the alternation order, statistics, the stamp of the
// cached data, the mixed scenario's proportions and memory figures, and the report and chart
// generators. The bench itself runs with `pnpm bench`; no figure here depends on timing. The burst
// client runs against a real loopback server.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { parseSurge, surgePods } from '@mokakbab/config';
import { parse as parseYaml } from 'yaml';
import { parseBenchArgs, PROFILES } from '../bench/lib/args.js';
import { burst } from '../bench/lib/burst.js';
import { acceptQueueLength, TCP_DROP_COUNTERS, tcpCounters } from '../bench/lib/kernel.js';
import { dataStamp, counterDeltas } from '../bench/lib/database.js';
import { summarize, type Sample } from '../bench/lib/load.js';
import { renderChart, renderReport } from '../bench/lib/report.js';
import { alternate, goal, type ScenarioResult } from '../bench/lib/scenario.js';
import { formatSpread, median, percentile, ratio, spread } from '../bench/lib/stats.js';
import { fixedRateFor } from '../bench/scenarios/ceiling.js';
import { tcpDrops, timeline } from '../bench/scenarios/cold.js';
import { launcherSettings, MIX, routeSequence } from '../bench/scenarios/mixed.js';
import { parseMemory } from '../bench/lib/memory.js';
import { plannedServers, simulateRollout } from '../bench/lib/fleet-plan.js';
import { BASE_FLEET, FLEET, fleetPlanSimulation, ROOM_GATE } from '../bench/scenarios/replicas.js';

test('flags: full by default, --quick, --only, bounded rounds', () => {
  const args = parseBenchArgs([]);
  assert.equal(args.profile.name, 'full');
  assert.deepEqual(args.profile.seed, { members: 100_000, articles: 100_000, participations: 200_000 });
  assert.equal(args.rounds, 3);
  assert.equal(parseBenchArgs(['--quick']).profile.name, 'quick');
  assert.deepEqual(args.scenarios, ['ceiling', 'auth', 'cold', 'ready', 'mixed', 'overload', 'replicas']);
  assert.deepEqual(parseBenchArgs(['--only', 'cold']).scenarios, ['cold']);
  assert.deepEqual(parseBenchArgs(['--only', 'mixed,ceiling']).scenarios, ['ceiling', 'mixed']);
  assert.throws(() => parseBenchArgs(['--only', 'jwt']), /--only "jwt" must be one of ceiling/);
  assert.throws(() => parseBenchArgs(['--rounds', '2']), /--rounds/);
  assert.throws(() => parseBenchArgs(['--rounds', '3.5']), /--rounds/);
});

test('the fixed rate of the ceiling is half the slower arm, rounded down, at least 5 req/s', () => {
  assert.equal(fixedRateFor(2_345), 1_150);
  assert.equal(fixedRateFor(150), 75);
  assert.equal(fixedRateFor(6), 5);
});

test('arms rotate each round so no arm always goes first', async () => {
  const order: string[] = [];
  const out = await alternate(3, ['a', 'b', 'c'], async (arm, round) => {
    order.push(arm);
    return round;
  });
  assert.deepEqual(order, ['a', 'b', 'c', 'b', 'c', 'a', 'c', 'a', 'b']);
  assert.deepEqual(out, { a: [0, 1, 2], b: [0, 1, 2], c: [0, 1, 2] });
});

test('statistics: median, range, nearest-rank percentile, ratio', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 2, 3]), 2.5);
  assert.equal(percentile([5, 1, 4, 2, 3], 50), 3);
  assert.equal(
    percentile(
      Array.from({ length: 100 }, (_, i) => i + 1),
      99,
    ),
    99,
  );
  assert.ok(Number.isNaN(percentile([], 99)));
  assert.equal(ratio(3, 2), 1.5);
  assert.equal(ratio(1, 0), null);
  assert.equal(formatSpread(spread([10, 12, 11])), '11 (10-12)');
  assert.equal(formatSpread(spread([7, 7, 7]), 1), '7.0');
  assert.deepEqual(goal('x', 0.8, '>=', 0.7), { name: 'x', target: '>= 0.7', value: '0.8', met: true });
  assert.equal(goal('x', null, '<=', 1).met, null);
});

test('the data stamp changes with a migration or the seed size, not with file order', () => {
  const a = dataStamp(PROFILES.full, ['001.do.schema.sql', '002.do.x.sql']);
  assert.equal(a, dataStamp(PROFILES.full, ['002.do.x.sql', '001.do.schema.sql']));
  assert.notEqual(a, dataStamp(PROFILES.full, ['001.do.schema.sql', '002.do.x.sql', '003.do.y.sql']));
  assert.notEqual(a, dataStamp(PROFILES.quick, ['001.do.schema.sql', '002.do.x.sql']));
  assert.deepEqual(
    counterDeltas(
      { Aborted_connects: 3, Connection_errors_accept: 1 },
      { Aborted_connects: 3, Connection_errors_accept: 4 },
    ),
    {
      Aborted_connects: 0,
      Connection_errors_accept: 3,
    },
  );
});

test('the mixed scenario sends its proportions exactly in every block of 100', () => {
  const seq = routeSequence();
  const block: Record<string, number> = {};
  for (let i = 0; i < 100; i++) {
    const r = seq();
    block[r] = (block[r] ?? 0) + 1;
  }
  assert.deepEqual(block, MIX);
});

const samples: Sample[] = [
  { sentMs: 10, latencyMs: 5, status: 200 },
  { sentMs: 20, latencyMs: 50, status: 200 },
  { sentMs: 150, latencyMs: 7, status: 503 },
  { sentMs: 160, latencyMs: Number.NaN, status: 0 },
  { sentMs: 250, latencyMs: 3, status: 200 },
];

test('summaries and the cold-start timeline bucket by send time', () => {
  assert.deepEqual(summarize(samples), { count: 5, ok: 3, errors: 2, p50Ms: 5, p99Ms: 50, maxMs: 50 });
  assert.deepEqual(summarize(samples, (s) => s.sentMs >= 100).ok, 1);
  const t = timeline([{ arm: 'lazy', samples }], 300);
  assert.deepEqual(t, { bucketMs: 100, series: [{ arm: 'lazy', p99Ms: [50, 7, 3], errors: [0, 2, 0] }] });
});

test('report and chart render the results they are given', () => {
  const result: ScenarioResult = {
    scenario: 'cold',
    title: 'Cold start',
    setup: 'A burst.',
    tables: [{ caption: 'Burst', header: ['arm', 'p99 | ms'], rows: [['lazy', 50]] }],
    goals: [goal('warm: failed', 0, '<=', 0), goal('gap', 2, '<=', 1.5)],
    rounds: {},
    timeline: timeline(
      [
        { arm: 'lazy', samples },
        { arm: 'warm <self>', samples: samples.slice(0, 2) },
      ],
      300,
    ),
  };
  const md = renderReport(
    {
      command: 'pnpm bench --quick',
      startedAt: '2026-12-01T00:00:00Z',
      durationS: 60,
      machine: '2 cores',
      data: 'quick',
    },
    [result],
    'cold-start.svg',
  );
  assert.match(md, /Command: `pnpm bench --quick`/);
  assert.match(md, /\| cold \| gap \| <= 1.5 \| 2 \| \*\*missed\*\* \|/);
  assert.match(md, /\| arm \| p99 \\\| ms \|\n\|---\|---:\|\n\| lazy \| 50 \|/);
  assert.match(md, /!\[p99 and failed requests per 100 ms\]\(cold-start.svg\)/);
  const svg = renderChart(result.timeline!, 'Cold & warm');
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.match(svg, /Cold &amp; warm/);
  assert.match(svg, /warm &lt;self&gt;/);
  // One latency line per arm (lazy has no gap) and one failure step line per arm.
  assert.equal(svg.match(/<polyline/g)?.length, 4);
  assert.ok(svg.endsWith('</svg>'));
});

test('fleet plan: each server planned on its own max_connections, the warm slots on the primary only', () => {
  const servers = plannedServers(FLEET.plan, [500, 200]);
  // floor((500 - 20 - 2) / 13), floor((500 - 20) / 13), floor((200 - 20) / 13)
  assert.deepEqual(
    servers.map((s) => [s.name, s.perPod, s.fixed, s.limit]),
    [
      ['primary', 36, 2, 480],
      ['replica 1', 36, 0, 480],
      ['replica 2', 13, 0, 180],
    ],
  );
});

test('fleet plan: a rolling update step by step, terminating pods holding their pools', () => {
  const servers = [{ name: 'db', limit: 100, perPod: 10, fixed: 1 }];
  const base = { replicas: 4, maxSurge: 1, maxUnavailable: 0, warmS: 2, drainS: 5, servers };
  // Terminating pods counted (TerminationComplete): never more than replicas + surge pods.
  const complete = simulateRollout({ ...base, countTerminating: true });
  assert.equal(complete.peakPods, 5);
  assert.equal(complete.peak.db, 51);
  assert.deepEqual(complete.over, []);
  const step = (t: number, old: number, starting: number, ready: number, terminating: number, db: number) => ({
    t,
    old,
    starting,
    waitingForRoom: 0,
    ready,
    terminating,
    connections: { db },
  });
  assert.deepEqual(complete.steps[0], step(0, 4, 1, 0, 0, 51));
  // At t=2 the first new pod is ready: one old pod starts draining, and nothing new may start yet.
  assert.deepEqual(complete.steps[2], step(2, 3, 0, 1, 1, 51));
  // Not counted (the default): replacements start while old pods drain, past replicas + surge.
  const started = simulateRollout({ ...base, countTerminating: false });
  assert.ok(started.peakPods > 5, `peak ${started.peakPods}`);
  assert.ok(started.durationS < complete.durationS);
  const tight = simulateRollout({ ...base, countTerminating: false, servers: [{ ...servers[0]!, limit: 51 }] });
  assert.deepEqual(tight.over, ['db']);
  // Every rollout ends with the new pods only.
  for (const r of [complete, started])
    assert.deepEqual(r.steps.at(-1), { ...r.steps.at(-1)!, old: 0, starting: 0, terminating: 0, ready: 4 });
  assert.throws(() => simulateRollout({ ...base, maxSurge: 0, countTerminating: true }), /cannot both be 0/);
});

test('fleet plan: the room gate holds a new pod cold until the pods holding pools leave it room', () => {
  // The limit fits 5 pods (5 x 10 + 1): replicas + surge, no more.
  const servers = [{ name: 'db', limit: 51, perPod: 10, fixed: 1 }];
  const base = { replicas: 4, maxSurge: 1, maxUnavailable: 0, warmS: 2, drainS: 5, countTerminating: false, servers };
  const ungated = simulateRollout(base);
  assert.deepEqual(ungated.over, ['db'], 'the default policy alone overruns it');
  assert.equal(ungated.peak.db, 81);
  const gated = simulateRollout({ ...base, roomGate: { timeoutS: 60 } });
  assert.deepEqual(gated.over, []);
  assert.equal(gated.peak.db, 51);
  assert.equal(gated.peakPods, 5);
  // t=2: the first new pod is ready, an old one drains (until t=7) and its replacement starts, but
  // holds no pool: 3 old + 1 ready + 1 draining already hold 51.
  assert.deepEqual(gated.steps[2], {
    t: 2,
    old: 3,
    starting: 1,
    waitingForRoom: 1,
    ready: 1,
    terminating: 1,
    connections: { db: 51 },
  });
  // t=7: the drained pod is gone, the waiting one warms.
  assert.equal(gated.steps[7]?.waitingForRoom, 0);
  assert.equal(gated.longestRoomWaitS, 5, 'each replacement waits one drain');
  assert.equal(gated.roomTimeouts, 0);
  // Paced by the drains: as long as counting terminating pods, longer than the ungated rollout.
  assert.equal(gated.durationS, simulateRollout({ ...base, countTerminating: true }).durationS);
  assert.ok(gated.durationS > ungated.durationS);
  // A timeout shorter than the drain: warmed anyway, past the limit, and counted.
  const impatient = simulateRollout({ ...base, roomGate: { timeoutS: 3 } });
  assert.equal(impatient.longestRoomWaitS, 3);
  assert.equal(impatient.roomTimeouts, 3);
  assert.deepEqual(impatient.over, ['db']);
  assert.ok(impatient.peak.db! < ungated.peak.db);
});

test('the replicas scenario simulates the prod and base fleets with and without the room gate', () => {
  const { tables, goals, results } = fleetPlanSimulation();
  const policies = [
    'TerminationStarted, no room gate, drain 25 s',
    'TerminationStarted, no room gate, drain 5 s',
    'TerminationStarted, room gate, drain 25 s',
    'TerminationStarted, room gate, drain 5 s',
    'TerminationComplete, drain 25 s',
  ];
  assert.deepEqual(
    Object.keys(results),
    ['prod', 'base'].flatMap((fleet) => policies.map((p) => `${fleet}: ${p}`)),
  );
  const peaks = Object.fromEntries(
    Object.entries(results).map(([k, r]) => [k, [r.peakPods, r.peak.primary, r.over.join(','), r.durationS]]),
  );
  assert.deepEqual(peaks, {
    // prod: 36 per pod, limit 480 on each of the three servers (the primary also holds 2 slot locks).
    'prod: TerminationStarted, no room gate, drain 25 s': [20, 722, 'primary,replica 1,replica 2', 33],
    'prod: TerminationStarted, no room gate, drain 5 s': [20, 722, 'primary,replica 1,replica 2', 13],
    'prod: TerminationStarted, room gate, drain 25 s': [13, 470, '', 108],
    'prod: TerminationStarted, room gate, drain 5 s': [13, 470, '', 28],
    'prod: TerminationComplete, drain 25 s': [13, 470, '', 108],
    // base: 37 per pod, limit 190 (my.cnf's 200 - 10 reserved), 1 slot lock.
    'base: TerminationStarted, no room gate, drain 25 s': [8, 297, 'primary', 33],
    'base: TerminationStarted, no room gate, drain 5 s': [8, 297, 'primary', 13],
    'base: TerminationStarted, room gate, drain 25 s': [5, 186, '', 108],
    'base: TerminationStarted, room gate, drain 5 s': [5, 186, '', 28],
    'base: TerminationComplete, drain 25 s': [5, 186, '', 108],
  });
  for (const [k, r] of Object.entries(results)) {
    if (k.includes(', room gate, drain 25 s')) assert.equal(r.longestRoomWaitS, 25, k);
    if (k.includes(', room gate')) assert.equal(r.roomTimeouts, 0, `${k}: room came before ${ROOM_GATE.timeoutS} s`);
  }
  assert.deepEqual(
    tables.map((t) => t.rows.length),
    [5, 5],
  );
  // Goals on what runs: the gate and TerminationComplete, each fleet; all met.
  assert.equal(goals.length, 6);
  assert.ok(goals.every((g) => g.met));
});

test("the simulated fleets are the manifests' fleets", () => {
  const root = resolve(import.meta.dirname, '..');
  const base = Object.fromEntries(
    readFileSync(join(root, 'infra/k8s/base/config.env'), 'utf8')
      .split('\n')
      .filter((l) => /^[A-Z_]+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  const prodKustomization = parseYaml(
    readFileSync(join(root, 'infra/k8s/overlays/prod/kustomization.yaml'), 'utf8'),
  ) as {
    configMapGenerator: { literals: string[] }[];
  };
  const prod = {
    ...base,
    ...Object.fromEntries(
      prodKustomization.configMapGenerator[0]!.literals.map((l) => l.split('=', 2) as [string, string]),
    ),
  };
  const myCnf = Number(
    /^max_connections\s*=\s*(\d+)/m.exec(readFileSync(join(root, 'infra/mysql/my.cnf'), 'utf8'))?.[1],
  );
  for (const [env, fleet, maxConnections] of [
    [base, BASE_FLEET, myCnf],
    [prod, FLEET, Number(prod.DB_MAX_CONNECTIONS)],
  ] as const) {
    assert.deepEqual(
      {
        maxConnections,
        replicas: Number(env.DB_REPLICAS),
        maxReplicas: Number(env.DB_MAX_REPLICAS),
        maxSurge: parseSurge(env.DB_MAX_SURGE!),
        reserved: Number(env.DB_RESERVED_CONNECTIONS),
        warmSlots: Number(env.WARM_SLOTS),
      },
      fleet.plan,
    );
    assert.equal(fleet.rollout.replicas, fleet.plan.maxReplicas, 'the rollout at the HPA maximum');
    assert.equal(fleet.rollout.maxSurge, surgePods(fleet.plan.maxSurge, fleet.plan.maxReplicas));
  }
});

test('the burst client: connections first, requests once the server accepted them, error codes kept', async () => {
  // A real server on loopback; every third request is refused the way the API's door refuses.
  let served = 0;
  const server = createServer((_req, res) => {
    const refuse = ++served % 3 === 0;
    const body = refuse ? '{"code":"OVERLOADED","message":"busy"}' : '{"ok":true}';
    // Like Fastify's answers, with a content-length (the client reads no other framing).
    res.writeHead(refuse ? 503 : 200, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const run = await burst({
      url: `http://127.0.0.1:${port}/x`,
      connections: 5,
      durationS: 0.3,
      bearerTokens: ['a', 'b'],
    });
    assert.equal(run.connectMs.length, 5);
    assert.equal(run.connectFailures, 0);
    if (process.platform === 'linux') assert.ok(Number.isFinite(run.acceptedMs), 'accept queue observed');
    assert.equal(run.samples.length, served, 'every answer is a sample; none left in flight');
    assert.ok(run.clockStartMs >= Math.max(...run.connectMs), 'the requests leave once every connection is up');
    const refused = run.samples.filter((s) => s.status === 503).length;
    assert.ok(refused > 0);
    assert.deepEqual(run.errorCodes, { '503 OVERLOADED': refused });
    assert.ok(run.samples.every((s) => s.sentMs >= 0 && s.latencyMs >= 0));
  } finally {
    server.close();
  }
});

test("the burst client's k6 clock: each first request leaves with its connect and is timed from before it", async () => {
  let served = 0;
  const server = createServer((_req, res) => {
    served++;
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': 2 });
    res.end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const run = await burst({ url: `http://127.0.0.1:${port}/x`, connections: 5, durationS: 0.3, clock: 'connect' });
    assert.equal(run.connectMs.length, 5);
    assert.equal(run.connectFailures, 0);
    if (process.platform === 'linux') assert.ok(Number.isFinite(run.acceptedMs), 'accept queue observed');
    assert.equal(run.samples.length, served);
    // The first requests were written as the connects started, before any of them completed, and
    // their latency covers the connect.
    assert.equal(run.clockStartMs, 0, 'sentMs counts from t=0, when the connects started');
    const firstConnectMs = Math.min(...run.connectMs);
    const firstWave = [...run.samples].sort((a, b) => a.sentMs - b.sentMs).slice(0, 5);
    for (const s of firstWave) {
      assert.ok(s.sentMs < firstConnectMs, `sent at ${s.sentMs} ms, before the first connect at ${firstConnectMs} ms`);
      assert.ok(s.sentMs + s.latencyMs >= firstConnectMs);
    }
  } finally {
    server.close();
  }
});

test('kernel counters: the drop counters and a listening port', { skip: process.platform !== 'linux' }, async () => {
  assert.deepEqual(Object.keys(tcpCounters()).sort(), [...TCP_DROP_COUNTERS].sort());
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    assert.equal(acceptQueueLength((server.address() as AddressInfo).port), 0);
  } finally {
    server.close();
  }
  assert.equal(tcpDrops([{ ListenDrops: 2 }, { ListenDrops: 1, TCPSynRetrans: 0 }]), 'ListenDrops 3');
  assert.equal(tcpDrops([{}, { ListenDrops: 0 }]), '0');
});

test('the burst client backs off for Retry-After when told to', async () => {
  const server = createServer((_req, res) => {
    const body = '{"code":"OVERLOADED"}';
    res.writeHead(503, { 'retry-after': '1', 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    // Each connection is refused once and then waits past the end of the run.
    const polite = await burst({ url, connections: 3, durationS: 0.3, honorRetryAfter: true });
    assert.equal(polite.samples.length, 3);
    const eager = await burst({ url, connections: 3, durationS: 0.3 });
    assert.ok(eager.samples.length > 3, `${eager.samples.length} requests without the back-off`);
  } finally {
    server.close();
  }
});

test('memory: RSS from /proc status, heap spaces and GC time from the default Prometheus metrics', () => {
  const status = ['VmRSS:\t  153600 kB', 'RssAnon:\t  98304 kB', 'RssFile:\t  55296 kB'].join('\n');
  const metrics = [
    '# HELP nodejs_heap_size_total_bytes Process heap size from Node.js in bytes.',
    'nodejs_heap_size_total_bytes 57671680',
    'nodejs_heap_size_used_bytes 46137344',
    'nodejs_external_memory_bytes 6291456',
    'nodejs_heap_space_size_total_bytes{space="new"} 8388608',
    'nodejs_heap_space_size_total_bytes{space="old"} 37748736',
    'nodejs_heap_space_size_used_bytes{space="old"} 1048576',
    'nodejs_gc_duration_seconds_sum{kind="minor"} 0.5',
    'nodejs_gc_duration_seconds_sum{kind="major"} 0.125',
    'nodejs_gc_duration_seconds_count{kind="minor"} 900',
  ].join('\n');
  assert.deepEqual(parseMemory(status, metrics), {
    rssMb: 150,
    rssAnonMb: 96,
    rssFileMb: 54,
    heapTotalMb: 55,
    heapUsedMb: 44,
    externalMb: 6,
    spacesMb: { new: 8, old: 36 },
    gcSeconds: { minor: 0.5, major: 0.125 },
  });
});

test("the mixed report names the launcher's settings as services/api/run.sh sets them", () => {
  assert.equal(launcherSettings(': "${A_B=x y}"\necho\n: "${C=1}"\n'), 'A_B=x y C=1');
  const settings = launcherSettings(readFileSync(new URL('../services/api/run.sh', import.meta.url), 'utf8'));
  assert.match(settings, /^NODE_OPTIONS=--max-semi-space-size=\d+ --max-old-space-size=\d+ GLIBC_TUNABLES=\S+$/);
});
