import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseSurge, planPool, PlanError, readReserve, surgePods } from '../src/index.js';

describe('planPool', () => {
  test('151 connections, 3 replicas, surge 1, reserved 10 gives 35 each', () => {
    const plan = planPool({ maxConnections: 151, replicas: 3, maxSurge: parseSurge('1'), reserved: 10 });
    assert.equal(plan.perInstance, 35);
    assert.equal(plan.peakInstances, 4);
    assert.equal(plan.fleetPeak, 140);
    assert.equal(plan.budget, 141);
    assert.equal(plan.headroom, 1);
  });

  test('with an HPA maximum of 6 and surge 25% the peak is 8 instances: 17 each', () => {
    const plan = planPool({
      maxConnections: 151,
      replicas: 3,
      maxReplicas: 6,
      maxSurge: parseSurge('25%'),
      reserved: 10,
    });
    assert.equal(plan.surge, 2);
    assert.equal(plan.peakInstances, 8);
    assert.equal(plan.perInstance, 17);
    assert.equal(plan.fleetPeak, 136);
    assert.equal(plan.headroom, 5);
  });

  test('5 connections for 10 replicas fails with the arithmetic in the message', () => {
    assert.throws(
      () => planPool({ maxConnections: 5, replicas: 10 }),
      (err: Error) => {
        assert.ok(err instanceof PlanError);
        assert.match(err.message, /5 connections for 10 instances/);
        return true;
      },
    );
  });

  test('every non-pool consumer is subtracted from the budget', () => {
    const plan = planPool({ maxConnections: 100, replicas: 2, reserved: 10, otherClients: 20, warmSlots: 2 });
    assert.equal(plan.budget, 68);
    assert.equal(plan.perInstance, 34);
    assert.equal(plan.headroom, 0);
  });

  test('floors, never rounds up past the budget', () => {
    const plan = planPool({ maxConnections: 100, replicas: 3 });
    assert.equal(plan.perInstance, 33);
    assert.ok(plan.fleetPeak <= plan.budget);
  });

  test('warns when nothing is left over, nothing is reserved, or an instance gets one connection', () => {
    const plan = planPool({ maxConnections: 4, replicas: 4 });
    assert.equal(plan.perInstance, 1);
    assert.equal(plan.warnings.length, 3);
    assert.deepEqual(
      planPool({ maxConnections: 151, replicas: 3, reserved: 10, maxSurge: parseSurge('25%') }).warnings,
      [],
    );
  });

  test('rejects inconsistent or non-integer inputs', () => {
    assert.throws(
      () => planPool({ maxConnections: 100, replicas: 4, maxReplicas: 3 }),
      /maxReplicas \(3\) is below replicas \(4\)/,
    );
    assert.throws(() => planPool({ maxConnections: 100, replicas: 0 }), /replicas must be an integer >= 1/);
    assert.throws(() => planPool({ maxConnections: 10.5, replicas: 1 }), /maxConnections/);
    assert.throws(() => planPool({ maxConnections: 100, replicas: 1, reserved: -1 }), /reserved/);
  });
});

describe('surge', () => {
  test('a percentage is of the replicas and rounds up, like Kubernetes maxSurge', () => {
    assert.equal(surgePods(parseSurge('25%'), 3), 1);
    assert.equal(surgePods(parseSurge('25%'), 4), 1);
    assert.equal(surgePods(parseSurge('25%'), 5), 2);
    assert.equal(surgePods(parseSurge('100%'), 3), 3);
    assert.equal(surgePods(parseSurge('0%'), 3), 0);
    assert.equal(surgePods(parseSurge('2'), 10), 2);
  });

  test('rejects anything else', () => {
    for (const bad of ['', '-1', '1.5', '25 %', 'abc', '%']) assert.throws(() => parseSurge(bad), PlanError, bad);
  });
});

describe('readReserve', () => {
  test('a share of the pool rounded down, at least 1 from a pool of 2, none for a pool of 1 or 0 %', () => {
    assert.equal(readReserve(10, 20), 2);
    assert.equal(readReserve(50, 20), 10);
    assert.equal(readReserve(4, 20), 1);
    assert.equal(readReserve(2, 20), 1);
    assert.equal(readReserve(1, 20), 0);
    assert.equal(readReserve(10, 0), 0);
    assert.equal(readReserve(300, 90), 270);
  });

  test('an impossible share or size is a PlanError', () => {
    assert.throws(() => readReserve(10, 100), PlanError);
    assert.throws(() => readReserve(10, -1), PlanError);
    assert.throws(() => readReserve(0, 20), PlanError);
  });
});
