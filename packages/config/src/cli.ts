// `pnpm pool-plan`: the pool plan, with its arithmetic, for people and for scripts (--json).
import { parseArgs } from 'node:util';
import { checkCapacity, type CapacityResult } from './capacity.js';
import { mysqlUrl } from './env.js';
import { formatSurge, parseSurge, planPool, planReplicaServer, PlanError, type PoolPlan } from './pool-plan.js';
import { readServerLimits } from './server-limits.js';
import { checkTiming } from './timing.js';
import { PLAN_DEFAULTS, poolVars } from './variables.js';

const USAGE = `usage: pool-plan --max-connections N --replicas N [--max-replicas N] [--max-surge N|P%]
                 [--reserved N] [--other-clients N] [--warm-slots N] [--peak-rps N --db-ms N]
                 [--replica-max-connections N]... [--json] [--from-server DATABASE_URL]

  --max-connections  the server's max_connections (or read it with --from-server)
  --replicas         API replicas; --max-replicas the HPA maximum (default: replicas)
  --max-surge        extra pods during a rollout: a count, or a percentage of the max replicas
                     rounded up (default ${PLAN_DEFAULTS.maxSurge})
  --reserved         connections kept for administration (default ${PLAN_DEFAULTS.reserved})
  --other-clients    connections of other applications (default ${PLAN_DEFAULTS.otherClients})
  --warm-slots       fleet warm slots, one warmer connection each (default ${PLAN_DEFAULTS.warmSlots})
  --peak-rps, --db-ms  check the plan carries this load (Little's law)
  --from-server      read @@max_connections and @@wait_timeout from this server
  --replica-max-connections  a read replica's max_connections (once per replica): each replica
                     gets its own plan for the same fleet, without warm slots`;

class UsageError extends Error {}

function whole(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw.trim())) throw new UsageError(`--${name} ${JSON.stringify(raw)} is not a whole number`);
  return Number(raw);
}

function positive(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} ${JSON.stringify(raw)} is not a positive number`);
  return n;
}

interface Report {
  plan: PoolPlan;
  server?: { maxConnections: number; waitTimeoutS: number; version: string };
  timing?: { maxLifetimeMs: number; waitTimeoutS: number; errors: string[] };
  capacity?: CapacityResult & { peakRps: number; dbMs: number };
}

function render(r: Report): string {
  const p = r.plan;
  const rows: [string, string][] = [
    ['max_connections', `${p.maxConnections}${r.server ? ` (read from ${r.server.version})` : ''}`],
    ['- reserved', String(p.reserved)],
    ['- other clients', String(p.otherClients)],
    ['- warm slots', String(p.warmSlots)],
    ['= budget', String(p.budget)],
    ['instances at peak', `${p.maxReplicas} max replicas + ${p.surge} surge = ${p.peakInstances}`],
    ['per instance', `floor(${p.budget} / ${p.peakInstances}) = ${p.perInstance}`],
    ['fleet at peak', `${p.perInstance} x ${p.peakInstances} = ${p.fleetPeak}`],
    ['headroom', `${p.budget} - ${p.fleetPeak} = ${p.headroom}`],
  ];
  if (r.capacity) {
    const c = r.capacity;
    rows.push([
      'capacity',
      `${c.peakRps} rps x ${c.dbMs} ms needs ${c.needed}, fleet has ${c.available}: ` +
        (c.enough
          ? `enough (carries up to ${c.maxRps} rps)`
          : `SHORT by ${c.shortBy} connections (carries ${c.maxRps} rps)`),
    ]);
  }
  if (r.timing) {
    rows.push([
      'lifetime',
      r.timing.errors.length
        ? r.timing.errors.join('; ')
        : `${r.timing.maxLifetimeMs} ms < wait_timeout ${r.timing.waitTimeoutS} s: ok`,
    ]);
  }
  const width = Math.max(...rows.map(([k]) => k.length));
  const lines = rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`);
  for (const w of p.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}

function indent(text: string): string {
  return text.replace(/^/gm, '  ');
}

export async function run(argv: string[], out: (s: string) => void = console.log): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      'max-connections': { type: 'string' },
      replicas: { type: 'string' },
      'max-replicas': { type: 'string' },
      'max-surge': { type: 'string' },
      reserved: { type: 'string' },
      'other-clients': { type: 'string' },
      'warm-slots': { type: 'string' },
      'peak-rps': { type: 'string' },
      'db-ms': { type: 'string' },
      json: { type: 'boolean' },
      'from-server': { type: 'string' },
      'replica-max-connections': { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    out(USAGE);
    return 0;
  }
  let server: Report['server'];
  if (values['from-server'] !== undefined) {
    server = await readServerLimits(mysqlUrl('--from-server', { doc: '' }).parse(values['from-server']));
  }
  const maxConnections = whole('max-connections', values['max-connections']) ?? server?.maxConnections;
  const replicas = whole('replicas', values.replicas);
  if (maxConnections === undefined) throw new UsageError('--max-connections (or --from-server) is required');
  if (replicas === undefined) throw new UsageError('--replicas is required');
  const peakRps = positive('peak-rps', values['peak-rps']);
  const dbMs = positive('db-ms', values['db-ms']);
  if ((peakRps === undefined) !== (dbMs === undefined)) throw new UsageError('--peak-rps and --db-ms go together');

  const input = {
    maxConnections,
    replicas,
    maxReplicas: whole('max-replicas', values['max-replicas']),
    maxSurge: parseSurge(values['max-surge'] ?? PLAN_DEFAULTS.maxSurge),
    reserved: whole('reserved', values.reserved) ?? PLAN_DEFAULTS.reserved,
    otherClients: whole('other-clients', values['other-clients']) ?? PLAN_DEFAULTS.otherClients,
    warmSlots: whole('warm-slots', values['warm-slots']) ?? PLAN_DEFAULTS.warmSlots,
  };
  const plan = planPool(input);
  const replicaPlans = (values['replica-max-connections'] ?? []).map((raw) =>
    planReplicaServer(input, whole('replica-max-connections', raw)!),
  );
  const report: Report = { plan };
  if (server) {
    report.server = server;
    const maxLifetimeMs = poolVars.maxLifetimeMs.defaultValue!;
    report.timing = {
      maxLifetimeMs,
      waitTimeoutS: server.waitTimeoutS,
      errors: checkTiming({
        waitTimeoutS: server.waitTimeoutS,
        maxLifetimeMs,
        connectTimeoutMs: poolVars.connectTimeoutMs.defaultValue!,
        acquireTimeoutMs: poolVars.acquireTimeoutMs.defaultValue!,
      }),
    };
  }
  if (peakRps !== undefined && dbMs !== undefined) {
    // Capacity at normal size: during a surge the extra pods share the same budget.
    const available = plan.perInstance * plan.replicas;
    report.capacity = { peakRps, dbMs, ...checkCapacity({ peakRps, dbMs }, available) };
  }
  if (values.json) {
    out(
      JSON.stringify({
        ...plan,
        maxSurge: values['max-surge'] ?? formatSurge(parseSurge(PLAN_DEFAULTS.maxSurge)),
        ...(report.server ? { server: report.server } : {}),
        ...(report.timing ? { timing: report.timing } : {}),
        ...(report.capacity ? { capacity: report.capacity } : {}),
        ...(replicaPlans.length > 0 ? { replicaServers: replicaPlans } : {}),
      }),
    );
  } else if (replicaPlans.length === 0) {
    out(render(report));
  } else {
    out(`primary\n${indent(render(report))}`);
    replicaPlans.forEach((p, i) => out(`\nreplica ${i + 1}\n${indent(render({ plan: p }))}`));
  }
  const failed = (report.timing?.errors.length ?? 0) > 0 || report.capacity?.enough === false;
  return failed ? 1 : 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  run(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
        console.error(`pool-plan: ${(err as Error).message}\n\n${USAGE}`);
        process.exit(2);
      }
      console.error(`pool-plan: ${err instanceof PlanError ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
