// The README quotes generated facts; these tests keep it true.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { README_TABLE } from '@mokakbab/config';
import { run } from '@mokakbab/config/cli';

const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README', () => {
  test('the configuration table is the one generated from the variable declarations (pnpm env-table)', () => {
    const match = /<!-- env-table:start -->\n([\s\S]*?)<!-- env-table:end -->/.exec(README);
    assert.ok(match, 'README has the env-table markers');
    assert.equal(match[1]!.trim(), README_TABLE().trim(), 'run `pnpm env-table` and paste its output into README.md');
  });

  test('every pool-plan example is what the CLI prints', async () => {
    const matches = [...README.matchAll(/\$ pnpm pool-plan (.+)\n([\s\S]*?)```/g)];
    assert.ok(matches.length >= 2, 'README quotes a pool-plan run, and one with replicas');
    for (const match of matches) {
      let out = '';
      await run(match[1]!.split(' '), (s) => (out += `${s}\n`));
      assert.equal(match[2]!.trim(), out.trim());
    }
  });

  test('names the two commands', () => {
    assert.match(README, /pnpm install && pnpm dev/);
    assert.match(README, /pnpm install && pnpm test/);
  });
});
