// Abuse resistance for the routes that cost a password hash or mint tokens:
// `fastify.authLimits` (per-client-address and per-account limits from @fastify/rate-limit, 429 with
// Retry-After in the project's error shape) and `fastify.hashing` (the cap on concurrent hashing).
// The limit store is this instance's memory (an LRU of RATE_LIMIT_MAX_KEYS keys): N replicas let N
// times the limit through; README "Rate limits" says how to share a Redis store instead.
import rateLimit from '@fastify/rate-limit';
import type { FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { Counter } from 'prom-client';
import { HashingGate } from '../../auth/hashing-gate.js';
import { HttpError } from '../../errors.js';

export type RejectionReason = 'rate_limited' | 'hashing_busy';

export interface AuthLimits {
  /** onRequest hook: at most RATE_LIMIT_AUTH_IP_MAX requests per window from one address to `route`. */
  perAddress(route: string): preHandlerAsyncHookHandler;
  /**
   * preHandler hook (the body is parsed and valid by then): at most RATE_LIMIT_AUTH_ACCOUNT_MAX
   * requests per window naming one account, whatever the address. `account` reads it from the request.
   */
  perAccount(route: string, account: (request: FastifyRequest) => string): preHandlerAsyncHookHandler;
}

declare module 'fastify' {
  interface FastifyInstance {
    authLimits: AuthLimits;
    hashing: HashingGate;
  }
}

const REJECTED_METRIC = 'http_requests_rejected_total';

export default fp(
  async function abusePlugin(fastify) {
    const { config, metrics } = fastify;
    // Shared with the other rejection reasons (overload, shutting down): whoever registers first creates it.
    const rejected =
      (metrics.registry.getSingleMetric(REJECTED_METRIC) as Counter<'reason'> | undefined) ??
      new Counter({
        name: REJECTED_METRIC,
        help: 'Requests rejected before doing their work, by reason.',
        labelNames: ['reason'],
        registers: [metrics.registry],
      });

    await fastify.register(rateLimit, { global: false });

    const limiter = (
      route: string,
      scope: 'address' | 'account',
      max: number,
      key: (request: FastifyRequest) => string,
    ) => {
      // `cache` sizes this limiter's own LRU (each createRateLimit gets a child store); untyped upstream.
      // Keys carry the limit's name: a shared store (Redis) holds every limit in one namespace.
      const keyGenerator = (request: FastifyRequest) => `${route}:${scope}:${key(request)}`;
      const options = { max, timeWindow: config.rateLimitWindowMs, keyGenerator, cache: config.rateLimitMaxKeys };
      const check = fastify.createRateLimit(options);
      const hook: preHandlerAsyncHookHandler = async (request) => {
        const result = await check(request);
        if (result.isAllowed || !result.isExceeded) return;
        rejected.inc({ reason: 'rate_limited' });
        throw new HttpError(
          429,
          'RATE_LIMITED',
          `Too many ${route} requests for this ${scope}; retry in ${result.ttlInSeconds} s.`,
          {
            'retry-after': String(result.ttlInSeconds),
          },
        );
      };
      return hook;
    };

    fastify.decorate('authLimits', {
      perAddress: (route) => limiter(route, 'address', config.rateLimitIpMax, (request) => request.ip),
      // Emails compare case-insensitively in the database (utf8mb4_unicode_ci): one account, one key.
      perAccount: (route, account) =>
        limiter(route, 'account', config.rateLimitAccountMax, (request) => account(request).trim().toLowerCase()),
    } satisfies AuthLimits);
    fastify.decorate(
      'hashing',
      new HashingGate(config.hashMaxConcurrent, () => rejected.inc({ reason: 'hashing_busy' })),
    );
  },
  { name: 'abuse', dependencies: ['metrics'] },
);
