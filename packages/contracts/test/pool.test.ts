import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isPoolResponse, isPoolStats, isWarmFailed, poolStatsErrors, type PoolStats } from '../src/index.js';

const stats: PoolStats = {
  target: 4,
  total: 3,
  idle: 2,
  busy: 1,
  connecting: 1,
  queued: 0,
  warm: false,
  degraded: true,
  warmedAt: null,
  maxConnecting: 2,
  recycled: 0,
  replaced: 1,
  connectErrors: { ER_CON_COUNT_ERROR: 2 },
  lastError: { code: 'ER_CON_COUNT_ERROR', message: 'Too many connections', at: '2026-01-01T00:00:00.000Z' },
  lastWarmMs: null,
};

test('a full answer passes, nullable fields take their value or null', () => {
  assert.equal(isPoolStats(stats), true);
  assert.equal(isPoolStats({ ...stats, warmedAt: '2026-01-01T00:00:00.000Z', lastWarmMs: 12, lastError: null }), true);
  assert.equal(isWarmFailed(stats), false);
  assert.equal(isWarmFailed({ ...stats, message: 'the server refused connections' }), true);
});

test('a missing or mistyped field fails and is named', () => {
  const { busy: _busy, ...missing } = stats;
  assert.equal(isPoolStats(missing), false);
  assert.match(poolStatsErrors(missing), /busy/);
  assert.equal(isPoolStats({ ...stats, total: '3' }), false);
  assert.equal(isPoolStats({ ...stats, warmedAt: 5 }), false);
  assert.equal(isPoolStats({ ...stats, connectErrors: { ECONNREFUSED: 'many' } }), false);
  assert.equal(
    isPoolStats({ statusCode: 503, code: 'POOL_CLOSED', error: 'Service Unavailable', message: 'closing' }),
    false,
  );
});

test('with read replicas, /pool keeps the primary fields and adds one entry per replica', () => {
  const replica = { ...stats, server: '10.0.0.2:3306', state: 'serving', lagMs: 12, outstanding: 0, reads: 40 };
  assert.equal(isPoolResponse(stats), true, 'no replicas: the answer as it always was');
  assert.equal(isPoolResponse({ ...stats, replicas: [replica] }), true);
  assert.equal(isPoolStats({ ...stats, replicas: [replica] }), true, 'the warmer reads the primary fields as before');
  assert.equal(isPoolResponse({ ...stats, replicas: [{ ...replica, state: 'gone' }] }), false);
  assert.equal(isPoolResponse({ ...stats, replicas: [{ ...replica, lagMs: null }] }), true);
  const { server: _s, ...noServer } = replica;
  assert.equal(isPoolResponse({ ...stats, replicas: [noServer] }), false);
});
