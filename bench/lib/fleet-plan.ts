// The fleet-plan simulation: N pods, each holding one pool per server (the primary and every read
// replica), through a Deployment's rolling update, second by second. It counts the connections
// every server holds at each step, terminating pods included (they keep their pools through the
// shutdown delay and the drain), against that server's max_connections.
//
// How the Deployment controller counts: by default pods that have begun terminating no longer count
// towards replicas + maxSurge, so replacements start while the old pods still drain (KEP-3973;
// `podReplacementPolicy: TerminationComplete` waits for them). Both policies are simulated.
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
}

export interface RolloutStep {
  readonly t: number;
  readonly old: number;
  readonly starting: number;
  readonly ready: number;
  readonly terminating: number;
  readonly connections: Readonly<Record<string, number>>;
}

export interface RolloutResult {
  readonly steps: readonly RolloutStep[];
  /** Most pods holding pools at once. */
  readonly peakPods: number;
  readonly peak: Readonly<Record<string, number>>;
  /** Servers whose limit the fleet exceeded at some step. */
  readonly over: readonly string[];
  readonly durationS: number;
}

const MAX_STEPS = 100_000;

export function simulateRollout(input: RolloutInput): RolloutResult {
  const { replicas, maxSurge, maxUnavailable, warmS, drainS, countTerminating } = input;
  if (maxSurge === 0 && maxUnavailable === 0) throw new RangeError('maxSurge and maxUnavailable cannot both be 0');
  let old = replicas;
  /** Start times of new pods not ready yet; end times of terminating pods. */
  let starting: number[] = [];
  let ready = 0;
  let terminating: number[] = [];
  const steps: RolloutStep[] = [];
  for (let t = 0; t < MAX_STEPS; t++) {
    ready += starting.filter((s) => t - s >= warmS).length;
    starting = starting.filter((s) => t - s < warmS);
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
        starting.push(t);
        changed = true;
      }
    }
    const pods = old + starting.length + ready + terminating.length;
    const connections = Object.fromEntries(input.servers.map((s) => [s.name, pods * s.perPod + s.fixed]));
    steps.push({ t, old, starting: starting.length, ready, terminating: terminating.length, connections });
    if (old === 0 && starting.length === 0 && terminating.length === 0) break;
  }
  const peakPods = Math.max(...steps.map((s) => s.old + s.starting + s.ready + s.terminating));
  const peak = Object.fromEntries(
    input.servers.map((s) => [s.name, Math.max(...steps.map((step) => step.connections[s.name]!))]),
  );
  const over = input.servers.filter((s) => peak[s.name]! > s.limit).map((s) => s.name);
  return { steps, peakPods, peak, over, durationS: steps.at(-1)!.t };
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
