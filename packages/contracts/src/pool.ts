// The API's admin contract: what `GET /pool` and `POST /pool/warm` answer. The API serialises with
// these schemas and the warmer validates with them, so neither side can drift from the other.
import { Type, type Static } from 'typebox';
import { Compile } from 'typebox/compile';

// `type: [..., 'null']` instead of anyOf so fast-json-stringify emits a plain branch, not a union check.
const NullableString = Type.Unsafe<string | null>({ type: ['string', 'null'] });
const NullableInteger = Type.Unsafe<number | null>({ type: ['integer', 'null'] });

export const PoolStatsSchema = Type.Object({
  target: Type.Integer(),
  total: Type.Integer(),
  idle: Type.Integer(),
  busy: Type.Integer(),
  connecting: Type.Integer(),
  queued: Type.Integer(),
  /** True once a warm-up succeeded (full, or as full as the server allowed); latched. */
  warm: Type.Boolean(),
  /**
   * Below target because the server refused more connections (1040): the pool serves with what it
   * has and keeps trying for the rest with backoff.
   */
  degraded: Type.Boolean(),
  /** ISO time of the last completed warm-up. */
  warmedAt: NullableString,
  /** Highest number of handshakes ever in flight at once. */
  maxConnecting: Type.Integer(),
  /** Connections retired for lifetime. */
  recycled: Type.Integer(),
  /** Connections opened to replace lost or retired ones. */
  replaced: Type.Integer(),
  /** Failed connects by error code. */
  connectErrors: Type.Record(Type.String(), Type.Integer()),
  lastError: Type.Union([Type.Object({ code: Type.String(), message: Type.String(), at: Type.String() }), Type.Null()]),
  /** Duration of the last completed warm-up. */
  lastWarmMs: NullableInteger,
});

export type PoolStats = Static<typeof PoolStatsSchema>;

/** One read replica's pool (DATABASE_REPLICA_URLS): its stats, where it is and how far behind. */
export const ReplicaPoolStatsSchema = Type.Object({
  ...PoolStatsSchema.properties,
  /** host:port of the replica (no credentials). */
  server: Type.String(),
  /** serving is in the read rotation; lagging is further behind than REPLICA_MAX_LAG_MS. */
  state: Type.Union([Type.Literal('warming'), Type.Literal('serving'), Type.Literal('lagging'), Type.Literal('down')]),
  /** Lag behind the primary at the last probe; null before the first one or while down. */
  lagMs: NullableInteger,
  /** Reads running on it now. */
  outstanding: Type.Integer(),
  /** Reads it answered since the start. */
  reads: Type.Integer(),
});

export type ReplicaPoolStats = Static<typeof ReplicaPoolStatsSchema>;

/** `GET /pool`: the primary's stats, field for field, plus `replicas` when there are any. */
export const PoolResponseSchema = Type.Object({
  ...PoolStatsSchema.properties,
  replicas: Type.Optional(Type.Array(ReplicaPoolStatsSchema)),
});

/** `POST /pool/warm` when the pool could not be filled (503): the stats plus why. */
export const WarmFailedSchema = Type.Object({
  ...PoolResponseSchema.properties,
  message: Type.String(),
});

export type WarmFailed = Static<typeof WarmFailedSchema>;

const poolStats = Compile(PoolStatsSchema);
const poolResponse = Compile(PoolResponseSchema);
const warmFailed = Compile(WarmFailedSchema);

export const isPoolStats = (value: unknown): value is PoolStats => poolStats.Check(value);
export const isPoolResponse = (value: unknown): value is Static<typeof PoolResponseSchema> => poolResponse.Check(value);
export const isWarmFailed = (value: unknown): value is WarmFailed => warmFailed.Check(value);

/** The first few validation errors, for a message that says what is wrong with an answer. */
export function poolStatsErrors(value: unknown): string {
  return poolStats
    .Errors(value)
    .slice(0, 3)
    .map((e) => `${e.instancePath || '/'} ${e.message}`)
    .join('; ');
}
