// The fleet-plan simulation: N pods, each holding one pool per server (the primary and every read
// replica), through a Deployment's rolling update, second by second. It counts the connections
// every server holds at each step, terminating pods included (they keep their pools through the
// shutdown delay and the drain), against that server's max_connections.
//
// How the Deployment controller counts: by default pods that have begun terminating no longer count
// towards replicas + maxSurge, so replacements start while the old pods still drain (KEP-3973;
// `podReplacementPolicy: TerminationComplete` waits for them). Both policies are simulated.
//
// The room gate (services/warmer): a new pod's warmer opens its pools only when the primary (the
// first server) has room for them, i.e. when the pods holding pools, plus this one, times perPod
// plus fixed fit its limit, or once it has waited the gate's timeout. Until then the pod holds no pool and is not ready, and
// with maxUnavailable 0 the rollout waits on it. The warmer's own check is stricter (another
// warm-up in progress counts as a whole pool), which can delay a warm-up, never raise the peak.
import { planPool, planReplicaServer, type PlanInput } from '@mokakbab/config';

export interface FleetServer {
  readonly name: string;
  /** What the fleet may hold: max_connections minus the reserved and other clients' connections. */
  readonly limit: number;
  /** Connections each pod's pool holds on this server. */
  readonly perPod: number;
  /** Connections held fleet-wide whatever the pod count (the warmers' slot locks on the primary). */
  readonly fixed: number;
}

export interface RolloutInput {
  /** Pods when the rollout starts; the worst case is the HPA maximum. */
  readonly replicas: number;
  readonly maxSurge: number;
  readonly maxUnavailable: number;
  /** From a pod's start to ready (its pools open while it warms). */
  readonly warmS: number;
  /** From SIGTERM to exit: the shutdown delay plus the drain, pools still open. */
  readonly drainS: number;
  /** true: terminating pods count towards replicas + maxSurge (TerminationComplete). */
  readonly countTerminating: boolean;
  readonly servers: readonly FleetServer[];
  /** The warmer's room gate (WARM_ROOM_TIMEOUT_MS in seconds); absent: pods warm as soon as they start. */
  readonly roomGate?: { readonly timeoutS: number } | undefined;
}

export interface RolloutStep {
  readonly t: number;
  readonly old: number;
  /** New pods not ready yet: warming, or waiting for room (holding no pool). */
  readonly starting: number;
  /** Of those, the ones the room gate holds back. */
  readonly waitingForRoom: number;
  readonly ready: number;
  readonly terminating: number;
  readonly connections: Readonly<Record<string, number>>;
}

export interface RolloutResult {
  readonly steps: readonly RolloutStep[];
  /** Most pods holding pools at once (a pod the room gate holds back holds none). */
  readonly peakPods: number;
  readonly peak: Readonly<Record<string, number>>;
  /** Servers whose limit the fleet exceeded at some step. */
  readonly over: readonly string[];
  readonly durationS: number;
  /** Longest a pod waited for room (0 without the gate). */
  readonly longestRoomWaitS: number;
  /** Pods that warmed without room, at the gate's timeout. */
  readonly roomTimeouts: number;
}

const MAX_STEPS = 100_000;

export function simulateRollout(input: RolloutInput): RolloutResult {
  const { replicas, maxSurge, maxUnavailable, warmS, drainS, countTerminating, servers, roomGate } = input;
  if (maxSurge === 0 && maxUnavailable === 0) throw new RangeError('maxSurge and maxUnavailable cannot both be 0');
  const primary = servers[0];
  if (!primary) throw new RangeError('a fleet needs at least its primary server');
  let old = replicas;
  /** New pods not ready yet: when each started, and when its warm-up (its pools) began. */
  let starting: { startedAt: number; warmingAt: number | undefined }[] = [];
  let ready = 0;
  /** End times of terminating pods. */
  let terminating: number[] = [];
  let longestRoomWaitS = 0;
  let roomTimeouts = 0;
  const steps: RolloutStep[] = [];
  const waitingForRoom = () => starting.filter((p) => p.warmingAt === undefined).length;
  const pods = () => old + starting.length + ready + terminating.length;
  for (let t = 0; t < MAX_STEPS; t++) {
    const warmed = (p: (typeof starting)[number]) => p.warmingAt !== undefined && t - p.warmingAt >= warmS;
    ready += starting.filter(warmed).length;
    starting = starting.filter((p) => !warmed(p));
    terminating = terminating.filter((end) => end > t);
    // The controller, until nothing changes this second: scale the old set down as far as
    // availability allows, then the new one up as far as the surge allows.
    for (let changed = true; changed;) {
      changed = false;
      while (old > 0 && old + ready - 1 >= replicas - maxUnavailable) {
        old--;
        terminating.push(t + drainS);
        changed = true;
      }
      const counted = () => old + starting.length + ready + (countTerminating ? terminating.length : 0);
      while (starting.length + ready < replicas && counted() < replicas + maxSurge) {
        starting.push({ startedAt: t, warmingAt: roomGate ? undefined : t });
        changed = true;
      }
    }
    // The gate, in start order: each admitted pod's pools count against the next one's check.
    for (const p of roomGate ? starting : []) {
      if (p.warmingAt !== undefined) continue;
      const holding = pods() - waitingForRoom();
      // The warmer checks the primary only (its slot session); replicas follow from the pod count.
      const fits = (holding + 1) * primary.perPod + primary.fixed <= primary.limit;
      const waitedS = t - p.startedAt;
      if (!fits && waitedS < roomGate!.timeoutS) continue;
      p.warmingAt = t;
      longestRoomWaitS = Math.max(longestRoomWaitS, waitedS);
      if (!fits) roomTimeouts++;
    }
    const holding = pods() - waitingForRoom();
    const connections = Object.fromEntries(servers.map((s) => [s.name, holding * s.perPod + s.fixed]));
    steps.push({
      t,
      old,
      starting: starting.length,
      waitingForRoom: waitingForRoom(),
      ready,
      terminating: terminating.length,
      connections,
    });
    if (old === 0 && starting.length === 0 && terminating.length === 0) break;
  }
  const peakPods = Math.max(...steps.map((s) => s.old + s.starting - s.waitingForRoom + s.ready + s.terminating));
  const peak = Object.fromEntries(
    servers.map((s) => [s.name, Math.max(...steps.map((step) => step.connections[s.name]!))]),
  );
  const over = servers.filter((s) => peak[s.name]! > s.limit).map((s) => s.name);
  return { steps, peakPods, peak, over, durationS: steps.at(-1)!.t, longestRoomWaitS, roomTimeouts };
}

/** The servers of a fleet as the API plans them: the primary's plan and one per replica. */
export function plannedServers(primary: PlanInput, replicaMaxConnections: readonly number[]): FleetServer[] {
  const plan = planPool(primary);
  const limit = (p: typeof plan) => p.maxConnections - p.reserved - p.otherClients;
  return [
    { name: 'primary', limit: limit(plan), perPod: plan.perInstance, fixed: plan.warmSlots },
    ...replicaMaxConnections.map((maxConnections, i) => {
      const replica = planReplicaServer(primary, maxConnections);
      return { name: `replica ${i + 1}`, limit: limit(replica), perPod: replica.perInstance, fixed: 0 };
    }),
  ];
}
