// Prints the README's configuration table from the variable declarations (`pnpm env-table`).
import { apiVars } from './api-config.js';
import { envTable } from './env.js';
import { warmerVars } from './variables.js';
import { TEST_VARS } from './test-vars.js';

export const README_TABLE = () =>
  envTable({ 'API (services/api)': apiVars, 'Warmer (services/warmer)': warmerVars, 'Tests and tools': TEST_VARS });

if (import.meta.url === `file://${process.argv[1]}`) console.log(README_TABLE());
