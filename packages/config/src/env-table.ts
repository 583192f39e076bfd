// Prints the README's configuration table from the variable declarations (`pnpm env-table`);
// `--write FILE` replaces the table between the env-table markers in FILE.
import { readFileSync, writeFileSync } from 'node:fs';
import { apiVars } from './api-config.js';
import { envTable } from './env.js';
import { TEST_VARS } from './test-vars.js';
import { warmerVars } from './variables.js';

export const README_TABLE = () =>
  envTable({ 'API (services/api)': apiVars, 'Warmer (services/warmer)': warmerVars, 'Tests and tools': TEST_VARS });

const START = '<!-- env-table:start -->';
const END = '<!-- env-table:end -->';

if (import.meta.url === `file://${process.argv[1]}`) {
  const [flag, file] = process.argv.slice(2);
  if (flag === '--write' && file) {
    const text = readFileSync(file, 'utf8');
    const [before, rest] = text.split(START);
    const after = rest?.split(END)[1];
    if (before === undefined || after === undefined) throw new Error(`${file} has no ${START} ... ${END} markers`);
    writeFileSync(file, `${before}${START}\n${README_TABLE()}${END}${after}`);
  } else {
    console.log(README_TABLE());
  }
}
