// Bad configuration stops the warmer at start with exit code 1 and a message naming the variable.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runWarmerToExit } from './helpers/processes.js';

const DATABASE_URL = 'mysql://root@127.0.0.1:3306/mokakbab';

test('no target in sidecar mode', async () => {
  const { code, stderr } = await runWarmerToExit({ DATABASE_URL, WARMER_MODE: 'sidecar', WARMER_TARGET: '' });
  assert.equal(code, 1);
  assert.match(stderr, /WARMER_TARGET is required in sidecar mode/);
});

test('a malformed target URL and K < 1 are both named', async () => {
  const { code, stderr } = await runWarmerToExit({ DATABASE_URL, WARMER_TARGET: 'localhost:3001', WARM_SLOTS: '0' });
  assert.equal(code, 1);
  assert.match(stderr, /WARMER_TARGET="localhost:3001"/);
  assert.match(stderr, /WARM_SLOTS="0" is out of range/);
});

test('fleet mode without a name, and a malformed replay list', async () => {
  const fleet = await runWarmerToExit({ DATABASE_URL, WARMER_MODE: 'fleet' });
  assert.equal(fleet.code, 1);
  assert.match(fleet.stderr, /WARMER_FLEET_HOST is required in fleet mode/);
  const replay = await runWarmerToExit({
    DATABASE_URL,
    WARMER_TARGET: 'http://127.0.0.1:3001',
    WARMER_REPLAY: '[{"path":"x"}]',
  });
  assert.equal(replay.code, 1);
  assert.match(replay.stderr, /WARMER_REPLAY: requests\[0\]\.method/);
});
