import { Type } from 'typebox';
import { NullableInteger, NullableString } from './common.js';

// The names of A1's PoolStats, one to one (GET /pool serves the object as it is).
export const PoolStatsResponse = Type.Object({
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

export const WarmFailedResponse = Type.Object({
  ...PoolStatsResponse.properties,
  message: Type.String(),
});
