// One place that turns DATABASE_URL (and DATABASE_CA) into mysql2 connection options, TLS included.
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'mysql2';

// MySQL client ssl-mode names. `?ssl=true` means verified TLS; encrypting without checking the
// certificate (REQUIRED) has to be asked for by name.
const VERIFIED_TLS = new Set(['VERIFY_CA', 'VERIFY_IDENTITY']);

/** DATABASE_CA is a PEM itself or the path of a PEM file. */
export function readCa(ca: string): string {
  return ca.includes('-----BEGIN') ? ca : readFileSync(ca, 'utf8');
}

function tlsOptions(params: URLSearchParams, ca: string | undefined): ConnectionOptions['ssl'] {
  const sslMode = (params.get('ssl-mode') ?? params.get('sslmode') ?? '').toUpperCase();
  if (sslMode === 'REQUIRED') return { rejectUnauthorized: false };
  const caOption = ca === undefined ? {} : { ca: readCa(ca) };
  // A CA given means the server's certificate is to be checked against it.
  if (VERIFIED_TLS.has(sslMode) || params.get('ssl') === 'true' || ca !== undefined) {
    return { rejectUnauthorized: true, ...caOption };
  }
  return undefined;
}

/** `ca`: DATABASE_CA (PEM or path); without it, verified TLS checks against Node's root CAs. */
export function connectionOptions(url: URL, ca?: string): ConnectionOptions {
  const ssl = tlsOptions(url.searchParams, ca);
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
