// The phases of one target, in the order a warm-up walks through them.
export const PHASES = [
  'waiting-for-admin',
  'waiting-for-slot',
  'waiting-for-room',
  'warming',
  'verifying',
  'replaying',
  'ready',
] as const;
export type Phase = (typeof PHASES)[number];
