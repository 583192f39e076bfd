// autocannon against loopback, reduced to the numbers the bench compares.
import autocannon from 'autocannon';

export interface LoadResult {
  /** Responses per second over the whole run. */
  readonly rps: number;
  readonly ok: number;
  readonly non2xx: number;
  /** Connection errors and timeouts. */
  readonly errors: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export interface LoadOptions {
  readonly url: string;
  readonly connections: number;
  readonly durationS: number;
  /** Authorization header values used in turn, one per request; none means no header. */
  readonly bearerTokens?: readonly string[];
}

export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const tokens = opts.bearerTokens ?? [];
  // Prebuilt header objects: rotating tokens must not cost the client more than the server.
  const headerSets = tokens.map((token) => ({ authorization: `Bearer ${token}` }));
  let next = 0;
  const result = await autocannon({
    url: opts.url,
    connections: opts.connections,
    duration: opts.durationS,
    timeout: 10,
    requests:
      headerSets.length > 0
        ? [
            {
              setupRequest: (request) => {
                request.headers = headerSets[next++ % headerSets.length]!;
                return request;
              },
            },
          ]
        : undefined,
  });
  return {
    rps: (result['2xx'] + result.non2xx) / result.duration,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
  };
}
