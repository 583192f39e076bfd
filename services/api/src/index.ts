export { default as serviceApp, type AppOptions } from './app.js';
export { buildAdmin } from './admin.js';
export { buildInstances, listen, warmInBackground, type Instances } from './start.js';
export { shutdown, type ShutdownOptions } from './shutdown.js';
export { createLogger, serverOptions, REDACTED_PATHS } from './server-options.js';
export { HttpError, StartupError } from './errors.js';
export { Readiness, type ReadyStatus } from './readiness.js';
export type { PoolStats } from './db/index.js';
