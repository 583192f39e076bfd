import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fullJitterDelayMs } from '../src/index.js';

test('full jitter: uniform from 0 up to an exponential ceiling, capped', () => {
  assert.equal(
    fullJitterDelayMs(0, 100, 2_000, () => 0),
    0,
    'the low end is 0, not half the ceiling',
  );
  assert.equal(
    fullJitterDelayMs(0, 100, 2_000, () => 0.999),
    99,
  );
  assert.equal(
    fullJitterDelayMs(3, 100, 2_000, () => 0.5),
    400,
  );
  assert.equal(
    fullJitterDelayMs(10, 100, 2_000, () => 0.999),
    1_998,
    'capped',
  );
  assert.equal(
    fullJitterDelayMs(1_000, 100, 2_000, () => 0.5),
    1_000,
    'no overflow on a long outage',
  );
});
