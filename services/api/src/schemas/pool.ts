import { Type } from 'typebox';
import { NullableInteger, NullableString } from './common.js';

// The names of A1's PoolStats, one to one (GET /pool serves the object as it is).
const PoolStats = Type.Object({
  target: Type.Integer(),
  total: Type.Integer(),
  idle: Type.Integer(),
  busy: Type.Integer(),
  connecting: Type.Integer(),
  queued: Type.Integer(),
  warm: Type.Boolean(),
  degraded: Type.Boolean(),
  warmedAt: NullableString,
  maxConnecting: Type.Integer(),
  recycled: Type.Integer(),
  replaced: Type.Integer(),
  connectErrors: Type.Record(Type.String(), Type.Integer()),
  lastError: Type.Union([Type.Object({ code: Type.String(), message: Type.String(), at: Type.String() }), Type.Null()]),
  lastWarmMs: NullableInteger,
});

// One per DATABASE_REPLICA_URLS entry (db/replicas.ts ReplicaStats); absent without replicas.
const ReplicaPoolStats = Type.Object({
  ...PoolStats.properties,
  server: Type.String(),
  state: Type.Union([Type.Literal('warming'), Type.Literal('serving'), Type.Literal('lagging'), Type.Literal('down')]),
  lagMs: NullableInteger,
  outstanding: Type.Integer(),
  reads: Type.Integer(),
});

export const PoolStatsResponse = Type.Object({
  ...PoolStats.properties,
  replicas: Type.Optional(Type.Array(ReplicaPoolStats)),
});

export const WarmFailedResponse = Type.Object({
  ...PoolStatsResponse.properties,
  message: Type.String(),
});
