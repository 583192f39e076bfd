// The API's admin contract (GET /pool, POST /pool/warm) over one keep-alive undici pool per target.
// Every call is bounded: connect, headers and body each have a timeout.
import { Pool } from 'undici';
import { isPoolStats, isWarmFailed, poolStatsErrors, type PoolStats } from '@mokakbab/contracts';

/** What the API's `GET /pool` answers: the shared contract the API serialises with. */
export type { PoolStats };

export class AdminError extends Error {
  constructor(
    message: string,
    /** refused: nothing listens (the API is gone or not started); failed: timeout or broken socket. */
    readonly kind: 'refused' | 'failed' | 'protocol' | 'warm-failed',
    readonly stats?: PoolStats,
  ) {
    super(message);
    this.name = 'AdminError';
  }
}

export interface AdminClientOptions {
  /** Bounds a `GET /pool`: connect, headers and body. */
  requestTimeoutMs: number;
  /** Bounds a `POST /pool/warm`, which answers only when the pool is full. */
  warmTimeoutMs: number;
}

const REFUSED = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);

export class AdminClient {
  readonly #pool: Pool;
  readonly #opts: AdminClientOptions;

  constructor(adminUrl: URL, opts: AdminClientOptions) {
    this.#opts = opts;
    this.#pool = new Pool(adminUrl.origin, {
      connections: 2,
      connectTimeout: opts.requestTimeoutMs,
      headersTimeout: opts.requestTimeoutMs,
      bodyTimeout: opts.requestTimeoutMs,
      keepAliveTimeout: 4_000,
    });
  }

  getPool(signal: AbortSignal): Promise<PoolStats> {
    return this.#call('GET', '/pool', this.#opts.requestTimeoutMs, signal);
  }

  warm(signal: AbortSignal): Promise<PoolStats> {
    return this.#call('POST', '/pool/warm', this.#opts.warmTimeoutMs, signal);
  }

  close(): Promise<void> {
    return this.#pool.destroy();
  }

  async #call(method: 'GET' | 'POST', path: string, timeoutMs: number, signal: AbortSignal): Promise<PoolStats> {
    let statusCode: number;
    let text: string;
    try {
      const res = await this.#pool.request({
        method,
        path,
        headersTimeout: timeoutMs,
        bodyTimeout: this.#opts.requestTimeoutMs,
        signal,
        headers: { accept: 'application/json' },
      });
      statusCode = res.statusCode;
      text = await res.body.text();
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      const refused = REFUSED.has(code);
      const reason = refused ? 'admin port not reachable' : 'admin request failed';
      throw new AdminError(
        `${method} ${path}: ${reason} (${code || (err as Error).message})`,
        refused ? 'refused' : 'failed',
      );
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new AdminError(`${method} ${path} answered ${statusCode} with malformed JSON`, 'protocol');
    }
    if (!isPoolStats(body)) {
      throw new AdminError(
        `${method} ${path} answered ${statusCode} without pool stats (${poolStatsErrors(body)})`,
        'protocol',
      );
    }
    const stats = body;
    if (statusCode === 503 && method === 'POST') {
      // The API sends the stats plus `message` (why the warm-up stopped); lastError is the pool's.
      const reason = isWarmFailed(stats) ? stats.message : stats.lastError;
      const why = reason ? `: ${typeof reason === 'string' ? reason : JSON.stringify(reason)}` : '';
      throw new AdminError(
        `warm-up did not fill the pool (${stats.total}/${stats.target})${why}`,
        'warm-failed',
        stats,
      );
    }
    if (statusCode !== 200) throw new AdminError(`${method} ${path} answered ${statusCode}`, 'protocol', stats);
    return stats;
  }
}
