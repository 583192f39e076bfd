// The logger and the Fastify server options of both ports: explicit timeouts and limits from the
// configuration, and a redacting pino logger.
import type { ApiConfig } from '@mokakbab/config';
import { LogController, type FastifyServerOptions } from 'fastify';
import { pino, type DestinationStream, type Logger } from 'pino';
import { validationOptions } from '../schemas/validation.js';

// Secrets that must never reach a log line, wherever they appear one level deep.
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  '*.password',
  '*.refreshToken',
  '*.accessToken',
  'password',
  'refreshToken',
  'accessToken',
  // mysql2 puts the statement on its errors with the values interpolated (password and token hashes).
  'err.sql',
  '*.sql',
];

export function createLogger(config: Pick<ApiConfig, 'logLevel'>, destination?: DestinationStream): Logger {
  const options = { level: config.logLevel, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}

// The socket inactivity timeout must outlast an idle keep-alive connection, or it would cut
// keep-alive short; a second beyond the longer of the two.
const SOCKET_SLACK_MS = 1_000;
// Registration includes waiting for the database (up to DB_WARM_TIMEOUT_MS, each try bounded by the
// connect timeout): the plugin timeout must not fire first and hide the real reason.
const PLUGIN_SLACK_MS = 5_000;

export function serverOptions(config: ApiConfig, logger: Logger): FastifyServerOptions {
  return {
    loggerInstance: logger,
    // Fastify's own per-request info lines are off (see app.ts for ACCESS_LOG, the replacement).
    logController: new LogController({ disableRequestLogging: true }),
    requestTimeout: config.requestTimeoutMs,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    connectionTimeout: Math.max(config.requestTimeoutMs, config.keepAliveTimeoutMs) + SOCKET_SLACK_MS,
    bodyLimit: config.bodyLimitBytes,
    // request.ip (the rate limits' key) is the client's address only behind proxies trusted here.
    trustProxy: config.trustProxyHops > 0 ? (_address: string, hop: number) => hop < config.trustProxyHops : false,
    ...validationOptions(),
    pluginTimeout: config.warmTimeoutMs + config.connectTimeoutMs + PLUGIN_SLACK_MS,
    // Requests arriving during close get the project's 503 (readiness plugin), not Fastify's body
    // without `code` or Retry-After. Sockets are ended by the ConnectionTracker, never destroyed
    // because they look idle ('idle' reset requests not parsed yet).
    return503OnClosing: false,
    forceCloseConnections: false,
  };
}
