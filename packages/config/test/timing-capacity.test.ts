import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkCapacity, checkTiming, connectionsNeeded } from '../src/index.js';

describe('checkTiming', () => {
  const ok = {
    waitTimeoutS: 600,
    maxLifetimeMs: 300_000,
    connectTimeoutMs: 1_500,
    acquireTimeoutMs: 2_000,
    requestTimeoutMs: 10_000,
  };

  test('consistent timings pass', () => assert.deepEqual(checkTiming(ok), []));

  test('lifetime must stay below wait_timeout minus the margin, naming both values', () => {
    const [err] = checkTiming({ ...ok, waitTimeoutS: 320 });
    assert.match(err!, /max lifetime 300000 ms must be below wait_timeout 320 s - margin 30000 ms = 290000 ms/);
    assert.equal(checkTiming({ ...ok, waitTimeoutS: 330 }).length, 1, 'equal to the limit is not below it');
    assert.equal(checkTiming({ ...ok, waitTimeoutS: 331 }).length, 0);
    assert.equal(checkTiming({ ...ok, waitTimeoutS: 310, marginMs: 5_000 }).length, 0);
  });

  test('connect timeout must be below acquire timeout', () => {
    const errors = checkTiming({ ...ok, connectTimeoutMs: 2_000 });
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /connect timeout 2000 ms must be below acquire timeout 2000 ms/);
  });

  test('acquire timeout must not exceed the request timeout', () => {
    const errors = checkTiming({ ...ok, acquireTimeoutMs: 12_000 });
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /acquire timeout 12000 ms must not exceed request timeout 10000 ms/);
    assert.deepEqual(checkTiming({ ...ok, acquireTimeoutMs: 10_000 }), []);
  });
});

describe("capacity (Little's law)", () => {
  test('connections = rps x service time x (1 + headroom), rounded up', () => {
    assert.equal(connectionsNeeded({ peakRps: 1_000, dbMs: 5, headroom: 0 }), 5);
    assert.equal(connectionsNeeded({ peakRps: 1_000, dbMs: 5 }), 7); // 6.5 -> 7 with the default 30 %
    assert.equal(connectionsNeeded({ peakRps: 100, dbMs: 10, headroom: 0.3 }), 2); // 1.3 -> 2, not 1.30..01
    assert.equal(connectionsNeeded({ peakRps: 0, dbMs: 10 }), 0);
  });

  test('says whether the plan carries the load and by how much it falls short', () => {
    const short = checkCapacity({ peakRps: 3_000, dbMs: 20, headroom: 0 }, 40);
    assert.deepEqual(short, { needed: 60, available: 40, enough: false, shortBy: 20, maxRps: 2_000 });
    const enough = checkCapacity({ peakRps: 1_000, dbMs: 20, headroom: 0 }, 40);
    assert.equal(enough.enough, true);
    assert.equal(enough.shortBy, 0);
  });

  test('rejects nonsense inputs', () => {
    assert.throws(() => connectionsNeeded({ peakRps: -1, dbMs: 5 }), RangeError);
    assert.throws(() => connectionsNeeded({ peakRps: 10, dbMs: 0 }), RangeError);
  });
});
