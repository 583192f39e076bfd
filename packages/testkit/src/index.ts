// Dev-only: what tests, the bench and `pnpm dev` need to run real servers and processes. No service
// depends on it at run time, so no image carries it.
export * from './server.js';
export * from './test-database.js';
export * from './wait.js';
export * from './tls.js';
export * from './slow-handshakes.js';
export * from './processes.js';
export * from './replication.js';
