// One place that turns DATABASE_URL into mysql2 connection options, TLS included.
import type { ConnectionOptions } from 'mysql2';

const TLS_MODES = new Set(['REQUIRED', 'VERIFY_CA', 'VERIFY_IDENTITY']);

export function connectionOptions(url: URL): ConnectionOptions {
  const params = url.searchParams;
  const sslMode = (params.get('ssl-mode') ?? params.get('sslmode') ?? '').toUpperCase();
  const ssl = params.get('ssl') === 'true' || TLS_MODES.has(sslMode);
  return {
    host: url.hostname,
    port: url.port ? Number(url.port) : 3306,
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database: decodeURIComponent(url.pathname.replace(/^\//, '')),
    charset: 'utf8mb4',
    // Managed servers present certificates from their own CA; REQUIRED encrypts without checking it,
    // VERIFY_* checks it against the system store, as the MySQL client does.
    ...(ssl ? { ssl: { rejectUnauthorized: sslMode === 'VERIFY_CA' || sslMode === 'VERIFY_IDENTITY' } } : {}),
  };
}

/** The URL with its password hidden, for logs. */
export function redactUrl(url: URL): string {
  const copy = new URL(url.href);
  if (copy.password) copy.password = '***';
  return copy.href;
}
