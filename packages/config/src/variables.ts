// Every environment variable the project reads, declared once. Services import these; the README
// table is generated from them (`pnpm env-table`).
import { bool, int, optional, powerOfTwo, httpUrl, mysqlUrl, oneOf, smtpUrl, str, type VarSpec } from './env.js';
import { parseSurge, type Surge } from './pool-plan.js';

export const DEFAULT_PORTS = { api: 3000, admin: 3001, warmer: 3002, metrics: 3003, warmerMetrics: 3004 } as const;

export const PLAN_DEFAULTS = { reserved: 10, otherClients: 0, warmSlots: 1, maxSurge: '0' } as const;

const surge = (name: string, doc: string, def: string): VarSpec<Surge> => ({
  name,
  doc,
  form: 'a count ("1") or a percentage ("25%") of the max replicas, rounded up',
  defaultValue: parseSurge(def),
  parse: parseSurge,
  defaultText: def,
});

const maxConnections: VarSpec<number | 'auto'> = {
  name: 'DB_MAX_CONNECTIONS',
  doc: "The server's max_connections for pool planning; `auto` reads @@max_connections at start.",
  form: '`auto` or an integer >= 1',
  defaultValue: 'auto',
  parse(raw) {
    const v = raw.trim();
    if (v === 'auto') return 'auto';
    if (!/^\d+$/.test(v) || Number(v) < 1) throw new Error('is neither `auto` nor a positive integer');
    return Number(v);
  },
};

export const databaseVars = {
  databaseUrl: mysqlUrl('DATABASE_URL', {
    doc: 'The MySQL server and database. `?ssl=true` (or `ssl-mode=VERIFY_IDENTITY`) for verified TLS; `ssl-mode=REQUIRED` encrypts without checking the certificate. `pnpm dev` starts a local server when unset.',
  }),
  databaseCa: optional(
    str('DATABASE_CA', {
      doc: "The CA that signed the server's certificate, as a PEM or a path to one (managed databases use a private CA). Set, it means verified TLS even without `?ssl=true`.",
    }),
  ),
};

/** Read replicas: one warm pool each, reads routed by lag and load (services/api/src/db/replicas.ts). */
export const replicaVars = {
  replicaUrls: {
    name: 'DATABASE_REPLICA_URLS',
    doc: 'Read replicas of DATABASE_URL (same database name), comma-separated: each gets its own warm pool planned against its own max_connections; idempotent reads go to them. Empty: every statement on DATABASE_URL.',
    form: 'mysql://user:password@host:port/database[,mysql://...]',
    secret: true,
    defaultValue: [],
    defaultText: '(none)',
    parse(raw) {
      const spec = mysqlUrl('DATABASE_REPLICA_URLS', { doc: '' });
      const urls = raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '')
        .map((s) => spec.parse(s));
      if (new Set(urls.map((u) => u.host)).size !== urls.length) throw new Error('names one server twice');
      return urls;
    },
  } satisfies VarSpec<readonly URL[]>,
  replicasRequired: optional(
    int('DB_REPLICAS_REQUIRED', {
      doc: 'Replicas whose pools must be warm before the instance is ready (the primary always must). Default: every one in DATABASE_REPLICA_URLS.',
      min: 0,
    }),
  ),
  replicaMaxLagMs: int('REPLICA_MAX_LAG_MS', {
    doc: 'A replica further behind the primary than this (measured every second from GTID positions) leaves the read rotation until it has caught up. A member who wrote reads from the primary for this plus 2 s.',
    default: 1_000,
    min: 1,
  }),
};

/** Inputs of the pool plan (packages/config planPool), shared by the API and the pool-plan CLI. */
export const planVars = {
  maxConnections,
  replicas: int('DB_REPLICAS', {
    doc: 'API replicas sharing the server (Deployment replicas / Compose scale).',
    default: 1,
    min: 1,
  }),
  maxReplicas: optional(
    int('DB_MAX_REPLICAS', { doc: 'The HPA maximum, when an autoscaler may add replicas.', min: 1 }),
  ),
  maxSurge: surge(
    'DB_MAX_SURGE',
    "The Deployment's rollout maxSurge (extra pods during a rollout).",
    PLAN_DEFAULTS.maxSurge,
  ),
  reserved: int('DB_RESERVED_CONNECTIONS', {
    doc: 'Connections kept free for administration, migrations, monitoring and replication (on the primary, one per replica).',
    default: PLAN_DEFAULTS.reserved,
    min: 0,
  }),
  otherClients: int('DB_OTHER_CLIENTS', {
    doc: 'Connections other applications hold on the same server.',
    default: PLAN_DEFAULTS.otherClients,
    min: 0,
  }),
  warmSlots: int('WARM_SLOTS', {
    doc: 'Fleet warm slots K: at most K instances warm at once; each slot holder uses one connection.',
    default: PLAN_DEFAULTS.warmSlots,
    min: 1,
  }),
  poolSize: optional(int('DB_POOL_SIZE', { doc: 'Overrides the planned per-instance pool size.', min: 1 })),
  planCheck: oneOf('DB_PLAN_CHECK', ['refuse', 'warn'] as const, {
    doc: 'What the API does at start when its pool or lifetime does not fit the server it found.',
    default: 'refuse',
  }),
};

export const poolVars = {
  warmConcurrency: int('DB_WARM_CONCURRENCY', {
    doc: 'Most connection handshakes in flight during warm-up.',
    default: 4,
    min: 1,
  }),
  warmOnBoot: bool('WARM_ON_BOOT', {
    doc: 'Warm the pool at start; `false` waits for `POST /pool/warm` (from the warmer).',
    default: true,
  }),
  warmRequests: int('WARM_REQUESTS', {
    doc: 'After the pool is warm and before ready, the hot read routes are run this many times each in-process (`inject`), so the first burst finds them compiled; 0 skips it. Stops after 5 s whatever is left.',
    default: 300,
    min: 0,
  }),
  warmTimeoutMs: int('DB_WARM_TIMEOUT_MS', {
    doc: 'How long one warm-up may take before it reports failure.',
    default: 30_000,
    min: 1,
  }),
  connectTimeoutMs: int('DB_CONNECT_TIMEOUT_MS', {
    doc: 'Timeout of one connection handshake.',
    default: 1_500,
    min: 1,
  }),
  acquireTimeoutMs: int('DB_ACQUIRE_TIMEOUT_MS', {
    doc: 'Longest wait for a free connection before the request gets 503.',
    default: 2_000,
    min: 1,
  }),
  queryTimeoutMs: int('DB_QUERY_TIMEOUT_MS', {
    doc: "Longest run of one statement: the server's own limit per session (max_statement_time on MariaDB, max_execution_time for SELECT on MySQL, innodb_lock_wait_timeout of half of it, at least 1 s), and a client timer that drops a connection whose server does not answer. Acquire + this must fit in REQUEST_TIMEOUT_MS.",
    default: 3_000,
    min: 1,
  }),
  readReservePercent: int('DB_READ_RESERVE_PERCENT', {
    doc: "Share of the pool that statements which may take locks (writes and transactions) can never hold, so a hot row's lock waits cannot take every connection from the reads (at least 1 connection with a pool of 2 or more; 0: no reserve). Writers beyond it wait for a writer's connection within DB_ACQUIRE_TIMEOUT_MS.",
    default: 20,
    min: 0,
    max: 90,
  }),
  queueLimit: int('DB_QUEUE_LIMIT', {
    doc: 'Most requests waiting for a connection; one more gets 503 at once.',
    default: 1_000,
    min: 0,
  }),
  maxLifetimeMs: int('DB_MAX_LIFETIME_MS', {
    doc: "A connection's longest life; retired on release or while idle, never in use. Below the server's wait_timeout.",
    default: 300_000,
    min: 1,
  }),
  lifetimeJitterMs: int('DB_LIFETIME_JITTER_MS', {
    doc: 'Each connection lives up to this much less than the max lifetime, so they do not all retire together.',
    default: 15_000,
    min: 0,
  }),
};

export const httpVars = {
  host: str('HOST', { doc: 'Address of the public port.', default: '0.0.0.0' }),
  port: int('PORT', { doc: 'Public port: API routes and /health/*.', default: DEFAULT_PORTS.api, min: 0, max: 65535 }),
  adminHost: str('ADMIN_HOST', {
    doc: 'Address of the admin port (/pool, /pool/warm, /metrics).',
    default: '127.0.0.1',
  }),
  adminPort: int('ADMIN_PORT', { doc: 'Admin port.', default: DEFAULT_PORTS.admin, min: 0, max: 65535 }),
  metricsHost: str('METRICS_HOST', {
    doc: 'Address of the metrics port (only GET /metrics), for a Prometheus outside the pod.',
    default: '0.0.0.0',
  }),
  metricsPort: optional(
    int('METRICS_PORT', {
      doc: 'Metrics-only port; unset: no such listener (/metrics stays on the admin port only).',
      min: 0,
      max: 65535,
    }),
  ),
  accessLog: bool('ACCESS_LOG', {
    doc: 'One info line per request (method, route, status, time); off: no per-request hook at all.',
    default: false,
  }),
  requestTimeoutMs: int('REQUEST_TIMEOUT_MS', {
    doc: 'Longest time to receive a whole request, and the deadline over all of its database work (each acquire and statement gets the smaller of its own limit and the time left; none left: 503 DEADLINE_EXCEEDED).',
    default: 10_000,
    min: 1,
  }),
  keepAliveTimeoutMs: int('KEEP_ALIVE_TIMEOUT_MS', {
    doc: 'Idle keep-alive time; above the load balancer idle timeout.',
    default: 72_000,
    min: 1,
  }),
  bodyLimitBytes: int('BODY_LIMIT_BYTES', { doc: 'Largest request body; larger gets 413.', default: 65_536, min: 1 }),
  // Above the original's 600-connection burst: with Node's 511, a burst that met a busy loop lost 87
  // SYNs to a full accept queue (ListenOverflows), and those clients connected 1 s later.
  listenBacklog: int('LISTEN_BACKLOG', {
    doc: 'TCP listen backlog of the public port (the kernel caps it at net.core.somaxconn).',
    default: 4_096,
    min: 1,
  }),
  // Node accepts one connection per event-loop iteration per listening socket. More sockets did not
  // shorten a 600-connection burst's accept wait in the bench (cold, k6 clock: 4 sockets were slower).
  listenSockets: int('LISTEN_SOCKETS', {
    doc: 'Listening sockets on the public port (SO_REUSEPORT, each with LISTEN_BACKLOG); one loop iteration accepts up to this many connections, so a burst of new connections is not starved by the ones already served. 1: one socket.',
    default: 4,
    min: 1,
    max: 64,
  }),
  shutdownDelayMs: int('SHUTDOWN_DELAY_MS', {
    doc: 'After SIGTERM, ready answers 503 and serving continues this long so endpoints are removed.',
    default: 5_000,
    min: 0,
  }),
  shutdownTimeoutMs: int('SHUTDOWN_TIMEOUT_MS', {
    doc: 'Longest drain after the delay before a forced exit.',
    default: 20_000,
    min: 1,
  }),
  maxEventLoopDelayMs: int('MAX_EVENT_LOOP_DELAY_MS', {
    doc: 'Mean event-loop delay (sampled each second) above which requests get 503 before any work; 0 turns the check off.',
    default: 1_000,
    min: 0,
  }),
  shedDelayMs: int('SHED_DELAY_MS', {
    doc: 'A request shed at the door (queue full or wait past the deadline) gets its 503 after this long, holding only a timer, so clients that resend at once send at most one request per connection per this interval; 0 answers at once. Below the 1 s Retry-After and REQUEST_TIMEOUT_MS.',
    default: 200,
    min: 0,
  }),
  shedMaxHeld: int('SHED_MAX_HELD', {
    doc: 'Most shed requests held for SHED_DELAY_MS at once; beyond it a shed request is answered at once.',
    default: 2_000,
    min: 0,
  }),
  rejectionLogIntervalMs: int('REJECTION_LOG_INTERVAL_MS', {
    doc: 'Requests turned away (overload, pool, event loop) are logged as one summary line per this interval, never one per request.',
    default: 10_000,
    min: 100,
  }),
  trustProxyHops: int('TRUST_PROXY_HOPS', {
    doc: 'Proxies in front of the API whose X-Forwarded-For is trusted (the client address the rate limits use); 0 trusts none.',
    default: 0,
    min: 0,
  }),
  logLevel: oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, {
    doc: 'pino log level.',
    default: 'info',
  }),
};

/** Retry-After, in seconds, of a 503 for overload (the door and the event loop). */
export const OVERLOAD_RETRY_AFTER_S = 1;

export const JWT_ALGORITHMS = ['HS256', 'HS384', 'HS512', 'RS256', 'ES256', 'EdDSA'] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

export const authVars = {
  jwtAlgorithm: oneOf('JWT_ALGORITHM', JWT_ALGORITHMS, { doc: 'Signing algorithm.', default: 'HS256' }),
  jwtSecret: optional(
    str('JWT_SECRET', {
      doc: 'HMAC secret for HS* (at least 32 characters).',
      minLength: 32,
      secret: true,
    }),
  ),
  jwtPrivateKey: optional(
    str('JWT_PRIVATE_KEY', { doc: 'PEM private key for RS256/ES256/EdDSA (signs tokens).', secret: true }),
  ),
  jwtPublicKey: optional(str('JWT_PUBLIC_KEY', { doc: 'PEM public key for RS256/ES256/EdDSA (verifies tokens).' })),
  accessTokenTtlS: int('JWT_ACCESS_TTL_S', { doc: 'Access token lifetime.', default: 900, min: 1 }),
  refreshTokenTtlS: int('JWT_REFRESH_TTL_S', { doc: 'Refresh token lifetime.', default: 1_209_600, min: 1 }),
  maxSessionsPerMember: int('JWT_MAX_SESSIONS_PER_MEMBER', {
    doc: 'Refresh tokens a member keeps (the oldest go first); also the sign-outs per access-token lifetime beyond which all their access tokens are revoked at once.',
    default: 10,
    min: 1,
  }),
  denylistMaxEntries: int('DENYLIST_MAX_ENTRIES', {
    doc: "Revoked access-token ids kept in memory; beyond it the oldest is folded into a revocation of all its member's older tokens.",
    default: 100_000,
    min: 1,
  }),
  jwtCacheSize: int('JWT_CACHE_SIZE', {
    doc: 'Verified tokens kept in memory; 0 disables the cache.',
    default: 10_000,
    min: 0,
  }),
  jwtMaxTokenBytes: int('JWT_MAX_TOKEN_BYTES', {
    doc: 'Longer tokens get 401 before any cryptography.',
    default: 4_096,
    min: 64,
  }),
  scryptCost: powerOfTwo('PASSWORD_SCRYPT_COST', { doc: 'scrypt N for password hashes.', default: 16_384 }),
  hashMaxConcurrent: int('PASSWORD_HASH_MAX_CONCURRENT', {
    doc: "Password hashes (sign-in, sign-up) computed at once (libuv's threadpool runs 4); one more gets 503 HASHING_BUSY at once.",
    default: 4,
    min: 1,
  }),
  rateLimitWindowMs: int('RATE_LIMIT_WINDOW_MS', {
    doc: 'Window of the sign-in, sign-up, refresh and verification rate limits.',
    default: 60_000,
    min: 1,
  }),
  rateLimitIpMax: int('RATE_LIMIT_AUTH_IP_MAX', {
    doc: 'Requests one client address may make to each of those routes per window; more get 429.',
    default: 20,
    min: 1,
  }),
  rateLimitAccountMax: int('RATE_LIMIT_AUTH_ACCOUNT_MAX', {
    doc: 'Sign-in and sign-up attempts for one email per window, from any address; more get 429.',
    default: 10,
    min: 1,
  }),
  rateLimitMaxKeys: int('RATE_LIMIT_MAX_KEYS', {
    doc: 'Addresses and emails each limit remembers (least recently used are forgotten).',
    default: 10_000,
    min: 1,
  }),
};

/** Sign-up mail (email verification) and uploaded images. */
export const mediaVars = {
  smtpUrl: optional(
    smtpUrl('SMTP_URL', {
      doc: 'Where sign-up verification codes are sent. Unset: the code is written to the log instead (development).',
    }),
  ),
  mailFrom: str('MAIL_FROM', {
    doc: 'Sender of the verification mail.',
    default: 'mokakbab <no-reply@mokakbab.local>',
  }),
  verificationCodeTtlS: int('VERIFICATION_CODE_TTL_S', {
    doc: 'How long an email verification code is valid.',
    default: 600,
    min: 1,
  }),
  verificationMaxAttempts: int('VERIFICATION_MAX_ATTEMPTS', {
    doc: 'Wrong codes allowed before a code is void and a new sign-up code is needed.',
    default: 5,
    min: 1,
  }),
  imageMaxBytes: int('IMAGE_MAX_BYTES', {
    doc: 'Largest uploaded image; larger gets 413.',
    default: 5_242_880,
    min: 1,
  }),
  imageDir: str('IMAGE_DIR', {
    doc: 'Directory of uploaded images when S3 is not configured (development).',
    default: '.dev/images',
  }),
  s3Endpoint: optional(
    httpUrl('S3_ENDPOINT', { doc: 'S3 API endpoint (MinIO, AWS); with S3_BUCKET, images are stored there.' }),
  ),
  s3Bucket: optional(str('S3_BUCKET', { doc: 'Bucket of uploaded images.' })),
  s3Region: str('S3_REGION', { doc: 'Region sent to the S3 API.', default: 'us-east-1' }),
  s3AccessKeyId: optional(str('S3_ACCESS_KEY_ID', { doc: 'S3 access key id.' })),
  s3SecretAccessKey: optional(str('S3_SECRET_ACCESS_KEY', { doc: 'S3 secret access key.', secret: true })),
};

export const warmerVars = {
  warmerHost: str('WARMER_HOST', { doc: "Address of the warmer's port.", default: '0.0.0.0' }),
  warmerPort: int('WARMER_PORT', {
    doc: 'Warmer port: /ready, /live, /status, /metrics.',
    default: DEFAULT_PORTS.warmer,
    min: 0,
    max: 65535,
  }),
  warmerMetricsPort: optional(
    int('WARMER_METRICS_PORT', {
      doc: 'Metrics-only port of the warmer (on WARMER_HOST), so a NetworkPolicy can open /metrics without /status.',
      min: 0,
      max: 65535,
    }),
  ),
  mode: oneOf('WARMER_MODE', ['sidecar', 'fleet'] as const, {
    doc: '`sidecar`: one API over loopback (Kubernetes); `fleet`: every address behind a DNS name (Compose).',
    default: 'sidecar',
  }),
  target: optional(httpUrl('WARMER_TARGET', { doc: "Sidecar mode: the API's admin URL." })),
  targetPublic: optional(
    httpUrl('WARMER_TARGET_PUBLIC', { doc: "Sidecar mode: the API's public URL (for the replay)." }),
  ),
  fleetHost: optional(
    str('WARMER_FLEET_HOST', { doc: 'Fleet mode: the DNS name behind which every API replica answers.' }),
  ),
  dnsServer: optional(
    str('WARMER_DNS_SERVER', {
      doc: 'Fleet mode: resolve the name at this DNS server (`ip` or `ip:port`) instead of the system resolver.',
    }),
  ),
  fleetAdminPort: int('WARMER_FLEET_ADMIN_PORT', {
    doc: 'Fleet mode: admin port of each replica.',
    default: DEFAULT_PORTS.admin,
    min: 1,
    max: 65535,
  }),
  fleetPublicPort: int('WARMER_FLEET_PUBLIC_PORT', {
    doc: 'Fleet mode: public port of each replica.',
    default: DEFAULT_PORTS.api,
    min: 1,
    max: 65535,
  }),
  resolveIntervalMs: int('WARMER_RESOLVE_INTERVAL_MS', {
    doc: 'Fleet mode: how often the name is resolved again.',
    default: 5_000,
    min: 100,
  }),
  fleetMinTargets: int('WARMER_FLEET_MIN_TARGETS', {
    doc: 'Fleet mode: /ready stays 503 until at least this many replicas are found and ready.',
    default: 1,
    min: 1,
  }),
  slotPrefix: str('WARM_SLOT_PREFIX', {
    doc: 'Prefix of the GET_LOCK names of the fleet warm slots.',
    default: 'mokakbab.warm',
  }),
  watchIntervalMs: int('WARMER_WATCH_INTERVAL_MS', {
    doc: "How often a ready target's /pool is checked.",
    default: 2_000,
    min: 50,
  }),
  warmTimeoutMs: int('WARMER_WARM_TIMEOUT_MS', {
    doc: 'Longest wait for one `POST /pool/warm`.',
    default: 60_000,
    min: 1,
  }),
  roomTimeoutMs: int('WARM_ROOM_TIMEOUT_MS', {
    doc: "Longest a warm-up waits for room on the server (max_connections - DB_RESERVED_CONNECTIONS - Threads_connected >= the pool's size) before it warms anyway; 0 turns the room check off.",
    default: 60_000,
    min: 0,
  }),
  replayFile: optional(
    str('WARMER_REPLAY_FILE', { doc: 'JSON file of warm-up requests to replay against the public port.' }),
  ),
  replay: optional(str('WARMER_REPLAY', { doc: 'The same list inline, as JSON.' })),
  replayDurationMs: int('WARMER_REPLAY_DURATION_MS', { doc: 'How long the replay runs.', default: 2_000, min: 0 }),
  replayConnections: int('WARMER_REPLAY_CONNECTIONS', {
    doc: 'Keep-alive connections the replay uses.',
    default: 4,
    min: 1,
  }),
  logLevel: httpVars.logLevel,
};
