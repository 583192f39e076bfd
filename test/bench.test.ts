// The bench's own arithmetic and flag bounds (the bench itself runs with `pnpm bench`).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseBenchArgs } from '../bench/lib/args.js';
import { median, ratio, table } from '../bench/lib/report.js';

test('flags have bounded defaults and reject out-of-range values', () => {
  const args = parseBenchArgs([]);
  assert.deepEqual(
    { durationS: args.durationS, connections: args.connections, rounds: args.rounds, only: args.only },
    { durationS: 5, connections: 50, rounds: 3, only: undefined },
  );
  assert.equal(parseBenchArgs(['--only', 'cold', '--duration', '2']).durationS, 2);
  assert.throws(() => parseBenchArgs(['--duration', '0']), /--duration/);
  assert.throws(() => parseBenchArgs(['--connections', '1.5']), /--connections/);
  assert.throws(() => parseBenchArgs(['--only', 'all']), /--only/);
});

test('median, ratio and table', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 2, 3]), 2.5);
  assert.equal(ratio(3, 2), 1.5);
  assert.equal(ratio(1, 0), null);
  assert.equal(table(['a', 'n'], [['x', 10]]), 'a   n\n-  --\nx  10');
});
