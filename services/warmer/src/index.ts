export { SHUTDOWN_HARD_LIMIT_MS, Warmer, type Readiness, type WarmerStatus } from './warmer.js';
export { ALL_PATHS, METRICS_ONLY, createHttpServer, listen } from './http.js';
export { FleetSlots, type ServerRoom, type SlotLease, type SlotsStatus } from './slots.js';
export { parseReplay, loadReplay, runReplay, ReplayError, type ReplaySpec, type ReplayRequest } from './replay.js';
export { AdminClient, AdminError, type PoolStats } from './admin-client.js';
export { resolveFleet, type TargetAddress } from './discovery.js';
export type { RoomStatus, TargetStatus, TargetTimings } from './target.js';
export { PHASES, type Phase } from './phases.js';
