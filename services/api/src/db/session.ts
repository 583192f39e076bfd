// The session every pooled connection starts with: UTC, and the server's own statement limits.
import { lockWaitTimeoutS } from '@mokakbab/config';

// UTC sessions: CURRENT_TIMESTAMP defaults and mysql2's `timezone: 'Z'` reads then agree whatever
// time zone the server or this process runs in.
export const UTC_SESSION_SQL = "SET time_zone = '+00:00'";

/**
 * One SET for a connection to the server of `version` (VERSION(), read at start): UTC, a
 * statement time limit (MariaDB's max_statement_time in seconds covers every statement; MySQL's
 * max_execution_time in ms covers SELECT only) and a short innodb_lock_wait_timeout, so a
 * statement the server still runs ends there, answered, and the connection stays usable.
 */
export function sessionSql(version: string, queryTimeoutMs: number): string {
  const limit = /mariadb/i.test(version)
    ? `max_statement_time = ${(queryTimeoutMs / 1000).toFixed(3)}`
    : `max_execution_time = ${Math.ceil(queryTimeoutMs)}`;
  return `${UTC_SESSION_SQL}, ${limit}, innodb_lock_wait_timeout = ${lockWaitTimeoutS(queryTimeoutMs)}`;
}
