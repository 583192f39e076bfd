import { int, mysqlUrl, optional, str } from './env.js';

/** Variables read by the test harness and the dev script (declared here so the README lists them). */
export const TEST_VARS = {
  testDatabaseUrl: optional(
    mysqlUrl('TEST_DATABASE_URL', {
      doc: 'Tests use this server (each test file creates and drops its own database) instead of starting a throwaway one.',
    }),
  ),
  mysqld: optional(str('MYSQLD', { doc: 'Path of the mariadbd/mysqld binary the harness and `pnpm dev` start.' })),
  devDbPort: optional(
    int('DEV_DB_PORT', {
      doc: "Port of `pnpm dev`'s local database; unset: 33306, or a free port when 33306 is taken.",
      min: 1,
      max: 65535,
    }),
  ),
};
