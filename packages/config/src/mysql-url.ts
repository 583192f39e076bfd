// One place that turns DATABASE_URL into mysql2 connection options, TLS included.
import type { ConnectionOptions } from 'mysql2';

// MySQL client ssl-mode names. `?ssl=true` means verified TLS; encrypting without checking the
// certificate (REQUIRED) has to be asked for by name.
const VERIFIED_TLS = new Set(['VERIFY_CA', 'VERIFY_IDENTITY']);

function tlsOptions(params: URLSearchParams): ConnectionOptions['ssl'] {
  const sslMode = (params.get('ssl-mode') ?? params.get('sslmode') ?? '').toUpperCase();
  if (sslMode === 'REQUIRED') return { rejectUnauthorized: false };
  if (VERIFIED_TLS.has(sslMode) || params.get('ssl') === 'true') return { rejectUnauthorized: true };
  return undefined;
}

export function connectionOptions(url: URL): ConnectionOptions {
  const ssl = tlsOptions(url.searchParams);
  return {
    host: url.hostname,
    port: url.port ? Number(url.port) : 3306,
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database: decodeURIComponent(url.pathname.replace(/^\//, '')),
    charset: 'utf8mb4',
    // Dates travel as UTC whatever Node's TZ is; the pool also sets each session's time_zone to UTC.
    timezone: 'Z',
    ...(ssl ? { ssl } : {}),
  };
}

/** The URL with its password hidden, for logs. */
export function redactUrl(url: URL): string {
  const copy = new URL(url.href);
  if (copy.password) copy.password = '***';
  return copy.href;
}
