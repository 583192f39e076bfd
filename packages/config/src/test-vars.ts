import { mysqlUrl, optional, str } from './env.js';

/** Variables read by the test harness and the dev script (declared here so the README lists them). */
export const TEST_VARS = {
  testDatabaseUrl: optional(
    mysqlUrl('TEST_DATABASE_URL', {
      doc: 'Tests use this server (each test file creates and drops its own database) instead of starting a throwaway one.',
    }),
  ),
  mysqld: optional(str('MYSQLD', { doc: 'Path of the mariadbd/mysqld binary the harness and `pnpm dev` start.' })),
};
