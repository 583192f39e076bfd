import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { run } from '../src/cli.js';

async function plan(args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await run(args, (s) => (out += `${s}\n`));
  return { code, out };
}

describe('pool-plan CLI', () => {
  test('shows the arithmetic: 151 / 3 replicas / surge 1 / reserved 10 gives 35', async () => {
    const { code, out } = await plan([
      '--max-connections',
      '151',
      '--replicas',
      '3',
      '--max-surge',
      '1',
      '--reserved',
      '10',
    ]);
    assert.equal(code, 0);
    assert.match(out, /per instance\s+floor\(140 \/ 4\) = 35/);
    assert.match(out, /instances at peak\s+3 max replicas \+ 1 surge = 4/);
  });

  test('--json: 151 / 3 replicas / HPA 6 / surge 25% / reserved 10 gives 17', async () => {
    const { code, out } = await plan([
      '--max-connections=151',
      '--replicas=3',
      '--max-replicas=6',
      '--max-surge=25%',
      '--reserved=10',
      '--json',
    ]);
    assert.equal(code, 0);
    const result = JSON.parse(out);
    assert.equal(result.perInstance, 17);
    assert.equal(result.fleetPeak, 136);
    assert.equal(result.headroom, 4);
    assert.deepEqual(result.warnings, []);
  });

  test('--replica-max-connections (repeatable): each server planned for the same fleet, replicas without warm slots', async () => {
    const args = ['--max-connections=151', '--replicas=3', '--max-surge=1', '--reserved=10', '--warm-slots=2'];
    const { code, out } = await plan([...args, '--replica-max-connections=151', '--replica-max-connections', '500']);
    assert.equal(code, 0);
    const [primary, first, second] = out.split(/^(?:primary|replica \d+)$/m).filter((s) => s.trim() !== '');
    // Primary: (151 - 10 - 2) / 4; replicas: (151 - 10) / 4 and (500 - 10) / 4.
    assert.match(primary!, /per instance\s+floor\(139 \/ 4\) = 34/);
    assert.match(first!, /- warm slots\s+0/);
    assert.match(first!, /per instance\s+floor\(141 \/ 4\) = 35/);
    assert.match(second!, /per instance\s+floor\(490 \/ 4\) = 122/);
    const json = JSON.parse((await plan([...args, '--replica-max-connections=500', '--json'])).out);
    assert.equal(json.perInstance, 34);
    assert.deepEqual(
      json.replicaServers.map((p: { maxConnections: number; perInstance: number }) => [
        p.maxConnections,
        p.perInstance,
      ]),
      [[500, 122]],
    );
    // Without the flag the output is the single plan it always was.
    assert.doesNotMatch((await plan(args)).out, /^primary$/m);
  });

  test('an impossible plan throws with the reason (the CLI exits 1)', async () => {
    await assert.rejects(
      plan(['--max-connections', '5', '--replicas', '10']),
      /cannot give each instance a connection/,
    );
  });

  test('capacity: says by how much the plan falls short, and exits 1', async () => {
    const { code, out } = await plan([
      '--max-connections',
      '60',
      '--replicas',
      '2',
      '--peak-rps',
      '5000',
      '--db-ms',
      '10',
      '--json',
    ]);
    assert.equal(code, 1);
    const result = JSON.parse(out);
    assert.deepEqual(
      { needed: result.capacity.needed, available: result.capacity.available, shortBy: result.capacity.shortBy },
      { needed: 65, available: 48, shortBy: 17 },
    );
  });

  test('usage errors are reported', async () => {
    await assert.rejects(plan(['--replicas', '3']), /--max-connections \(or --from-server\) is required/);
    await assert.rejects(
      plan(['--max-connections', '100', '--replicas', 'three']),
      /--replicas "three" is not a whole number/,
    );
    await assert.rejects(plan(['--max-connections', '100', '--replicas', '3', '--peak-rps', '10']), /go together/);
    await assert.rejects(plan(['--max-connections', '100', '--replicas', '3', '--bogus']), {
      code: 'ERR_PARSE_ARGS_UNKNOWN_OPTION',
    });
  });
});
