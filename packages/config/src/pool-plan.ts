// Pool planning: how many connections each API instance may hold so that the whole fleet, at its
// largest (HPA maximum plus rollout surge), still fits in the server's max_connections.

export type Surge =
  { readonly kind: 'count'; readonly value: number } | { readonly kind: 'percent'; readonly value: number };

export class PlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlanError';
  }
}

/** Parses a Kubernetes-style maxSurge: an absolute count ("2") or a percentage ("25%"). */
export function parseSurge(raw: string): Surge {
  const s = raw.trim();
  const pct = /^(\d+)%$/.exec(s);
  if (pct) return { kind: 'percent', value: Number(pct[1]) };
  if (/^\d+$/.test(s)) return { kind: 'count', value: Number(s) };
  throw new PlanError(`max surge ${JSON.stringify(raw)} is neither a count ("2") nor a percentage ("25%")`);
}

export function formatSurge(surge: Surge): string {
  return surge.kind === 'percent' ? `${surge.value}%` : String(surge.value);
}

/** Extra pods during a rollout; a percentage is of the replica count, rounded up as Kubernetes does for maxSurge. */
export function surgePods(surge: Surge, replicas: number): number {
  return surge.kind === 'count' ? surge.value : Math.ceil((replicas * surge.value) / 100);
}

export interface PlanInput {
  /** The server's max_connections. */
  readonly maxConnections: number;
  /** Replicas of the API (the Deployment's replicas / Compose scale). */
  readonly replicas: number;
  /** The HPA maximum, when an autoscaler can add replicas. */
  readonly maxReplicas?: number | undefined;
  /** Rollout surge; default 0. */
  readonly maxSurge?: Surge | undefined;
  /** Connections kept free for admins, replication, migrations, monitoring. */
  readonly reserved?: number | undefined;
  /** Connections held by other applications on the same server. */
  readonly otherClients?: number | undefined;
  /** Fleet warm slots: each slot holder (a warmer) keeps one connection. */
  readonly warmSlots?: number | undefined;
}

export interface PoolPlan {
  readonly maxConnections: number;
  readonly reserved: number;
  readonly otherClients: number;
  readonly warmSlots: number;
  /** max_connections minus everything that is not the API's pools. */
  readonly budget: number;
  readonly replicas: number;
  readonly maxReplicas: number;
  readonly surge: number;
  /** Instances that can exist at once: maxReplicas + surge. */
  readonly peakInstances: number;
  readonly perInstance: number;
  /** Connections the API fleet holds at its peak: perInstance * peakInstances. */
  readonly fleetPeak: number;
  /** Connections left unused at the peak (budget - fleetPeak). */
  readonly headroom: number;
  readonly warnings: readonly string[];
}

export const NO_HEADROOM_WARNING = 'the plan uses every connection in the budget: there is no headroom left';

function checkCount(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min)
    throw new PlanError(`${name} must be an integer >= ${min}, got ${value}`);
}

export function planPool(input: PlanInput): PoolPlan {
  const reserved = input.reserved ?? 0;
  const otherClients = input.otherClients ?? 0;
  const warmSlots = input.warmSlots ?? 0;
  checkCount('maxConnections', input.maxConnections, 1);
  checkCount('replicas', input.replicas, 1);
  checkCount('reserved', reserved, 0);
  checkCount('otherClients', otherClients, 0);
  checkCount('warmSlots', warmSlots, 0);
  if (input.maxReplicas !== undefined) {
    checkCount('maxReplicas', input.maxReplicas, 1);
    if (input.maxReplicas < input.replicas) {
      throw new PlanError(`maxReplicas (${input.maxReplicas}) is below replicas (${input.replicas})`);
    }
  }
  const maxReplicas = input.maxReplicas ?? input.replicas;
  const surge = surgePods(input.maxSurge ?? { kind: 'count', value: 0 }, maxReplicas);
  const peakInstances = maxReplicas + surge;
  const budget = input.maxConnections - reserved - otherClients - warmSlots;
  const perInstance = Math.floor(budget / peakInstances);
  if (perInstance < 1) {
    throw new PlanError(
      `cannot give each instance a connection: (max_connections ${input.maxConnections} - reserved ${reserved}` +
        ` - other clients ${otherClients} - warm slots ${warmSlots}) = ${budget} connections for` +
        ` ${peakInstances} instances (max replicas ${maxReplicas} + surge ${surge}).` +
        ` Raise max_connections, lower the replica count or the reserves.`,
    );
  }
  const fleetPeak = perInstance * peakInstances;
  const headroom = budget - fleetPeak;
  const warnings: string[] = [];
  if (reserved === 0)
    warnings.push('no connections are reserved for administration: an operator cannot connect when the fleet is full');
  if (headroom === 0) warnings.push(NO_HEADROOM_WARNING);
  if (perInstance < 2)
    warnings.push(`each instance gets only ${perInstance} connection: one slow query blocks every request`);
  return {
    maxConnections: input.maxConnections,
    reserved,
    otherClients,
    warmSlots,
    budget,
    replicas: input.replicas,
    maxReplicas,
    surge,
    peakInstances,
    perInstance,
    fleetPeak,
    headroom,
    warnings,
  };
}

/**
 * The plan for one read replica: the same fleet (replicas, HPA maximum, surge, reserves) against
 * that server's own max_connections. No warm slots: the warmer's slot locks live on the primary.
 */
export function planReplicaServer(primary: PlanInput, maxConnections: number): PoolPlan {
  return planPool({ ...primary, maxConnections, warmSlots: 0 });
}

/**
 * Connections of a pool of `size` that writers (statements that may wait on row locks) can never
 * hold: `percent` of it rounded down, at least 1 once the pool has 2 (a pool of 1 has nothing to
 * spare), 0 when `percent` is 0.
 */
export function readReserve(size: number, percent: number): number {
  checkCount('size', size, 1);
  if (!Number.isFinite(percent) || percent < 0 || percent >= 100) {
    throw new PlanError(`read reserve percent must be in [0, 100), got ${percent}`);
  }
  if (percent === 0 || size < 2) return 0;
  return Math.max(1, Math.floor((size * percent) / 100));
}
