// One error shape for every response: { statusCode, code, error, message }, and the mapping from
// whatever was thrown (validation, parser, pool, driver, our own HttpError) to that shape.
import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import {
  DeadlineExceededError,
  PoolUnavailableError,
  isDuplicateEntry,
  isUnavailableError,
  missingReference,
} from './db/index.js';

export class HttpError extends Error {
  readonly statusCode: number;
  readonly code: string;
  readonly headers: Readonly<Record<string, string>> | undefined;
  constructor(statusCode: number, code: string, message: string, headers?: Record<string, string>) {
    super(message);
    this.name = 'HttpError';
    this.statusCode = statusCode;
    this.code = code;
    this.headers = headers;
  }
}

/** Thrown while booting (server unreachable, plan refused): the process prints it and exits 1. */
export class StartupError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StartupError';
  }
}

export const badRequest = (code: string, message: string) => new HttpError(400, code, message);
export const notFound = (code: string, message: string) => new HttpError(404, code, message);
export const conflict = (code: string, message: string) => new HttpError(409, code, message);
export const forbidden = (code: string, message: string) => new HttpError(403, code, message);
export const unauthorized = (message: string) =>
  new HttpError(401, 'UNAUTHORIZED', message, { 'www-authenticate': 'Bearer' });

/** Seconds a client should wait after a 503 caused by the database connection itself. */
const DB_DOWN_RETRY_AFTER_S = 1;

/** 401: the token verified, but its member was deleted since (a write's foreign key says so). */
export const memberGone = () =>
  new HttpError(401, 'MEMBER_NOT_FOUND', 'The member of this access token no longer exists.', {
    'www-authenticate': 'Bearer',
  });

/** Answered to requests that arrive while the server drains: a load balancer retries them elsewhere. */
export const shuttingDown = () =>
  new HttpError(503, 'SHUTTING_DOWN', 'The server is shutting down; retry on another instance.', {
    'retry-after': '1',
    connection: 'close',
  });

export interface ErrorBody {
  statusCode: number;
  code: string;
  error: string;
  message: string;
}

function body(statusCode: number, code: string, message: string): ErrorBody {
  return { statusCode, code, error: STATUS_CODES[statusCode] ?? 'Error', message };
}

export function errorHandler(err: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  if (err instanceof HttpError) {
    if (err.headers) reply.headers(err.headers);
    return reply.code(err.statusCode).send(body(err.statusCode, err.code, err.message));
  }
  if (err.validation) {
    return reply.code(400).send(body(400, 'FST_ERR_VALIDATION', err.message));
  }
  if (err instanceof PoolUnavailableError) {
    // Counted by the pool and logged as one summary line per interval (plugins/app/overload.ts),
    // never a line per request: under overload those lines would cost the CPU that serves.
    reply.header('retry-after', String(err.retryAfterS));
    const message = err.code === 'DATABASE_DOWN' ? 'The database is unavailable' : 'The database is busy';
    return reply.code(503).send(body(503, err.code, `${message}; retry shortly.`));
  }
  if (err instanceof DeadlineExceededError) {
    reply.header('retry-after', String(err.retryAfterS));
    return reply.code(503).send(body(503, err.code, err.message));
  }
  if (isUnavailableError(err)) {
    request.log.warn({ code: err.code }, 'database unavailable');
    reply.header('retry-after', String(DB_DOWN_RETRY_AFTER_S));
    return reply.code(503).send(body(503, 'DATABASE_UNAVAILABLE', 'The database is unavailable; retry shortly.'));
  }
  if (isDuplicateEntry(err)) {
    return reply.code(409).send(body(409, 'CONFLICT', 'The resource already exists.'));
  }
  const reference = missingReference(err);
  if (reference !== undefined) {
    // Repositories return the references they expect; what is left is a row deleted by someone else meanwhile.
    if (reference.endsWith('_member')) {
      const gone = memberGone();
      return reply
        .code(gone.statusCode)
        .headers(gone.headers!)
        .send(body(gone.statusCode, gone.code, gone.message));
    }
    return reply.code(409).send(body(409, 'REFERENCE_GONE', 'A referenced resource no longer exists.'));
  }
  // Fastify's own client errors (malformed JSON 400, body too large 413, unsupported media type 415)
  // carry a 4xx statusCode and a code; keep both.
  const status = err.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    return reply.code(status).send(body(status, err.code ?? 'BAD_REQUEST', err.message));
  }
  if (status === 503) {
    reply.header('retry-after', String(DB_DOWN_RETRY_AFTER_S));
    return reply.code(503).send(body(503, err.code ?? 'UNAVAILABLE', err.message));
  }
  request.log.error({ err }, 'unhandled error');
  return reply.code(500).send(body(500, 'INTERNAL_SERVER_ERROR', 'Internal Server Error'));
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply) {
  return reply.code(404).send(body(404, 'NOT_FOUND', `Route ${request.method} ${request.url} not found`));
}
