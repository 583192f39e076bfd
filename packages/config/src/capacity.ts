// Little's law: the connections a load keeps busy on average = arrival rate x time each one is held.

export interface CapacityInput {
  readonly peakRps: number;
  /** Database service time per request (time a connection is held), not end-to-end latency. */
  readonly dbMs: number;
  /** Safety margin for bursts and variance; 0.3 means 30 % more. Default 0.3. */
  readonly headroom?: number | undefined;
}

export interface CapacityResult {
  /** Connections needed across the fleet, rounded up. */
  readonly needed: number;
  /** Connections the plan provides across the fleet (at normal size, without surge). */
  readonly available: number;
  readonly enough: boolean;
  /** How many connections are missing (0 when enough). */
  readonly shortBy: number;
  /** The largest RPS the available connections carry at this service time and headroom. */
  readonly maxRps: number;
}

export const DEFAULT_CAPACITY_HEADROOM = 0.3;

export function connectionsNeeded(input: CapacityInput): number {
  if (!(input.peakRps >= 0) || !(input.dbMs > 0)) {
    throw new RangeError(`peak RPS must be >= 0 and DB time > 0 ms (got ${input.peakRps} RPS, ${input.dbMs} ms)`);
  }
  const headroom = input.headroom ?? DEFAULT_CAPACITY_HEADROOM;
  // Round the product before ceiling so 100 RPS x 10 ms x 1.3 is 1.3, not 1.3000000000000003.
  return Math.ceil(Number((input.peakRps * (input.dbMs / 1000) * (1 + headroom)).toFixed(9)));
}

export function checkCapacity(input: CapacityInput, available: number): CapacityResult {
  const needed = connectionsNeeded(input);
  const headroom = input.headroom ?? DEFAULT_CAPACITY_HEADROOM;
  const shortBy = Math.max(0, needed - available);
  return {
    needed,
    available,
    enough: shortBy === 0,
    shortBy,
    maxRps: Math.floor(available / ((input.dbMs / 1000) * (1 + headroom))),
  };
}
