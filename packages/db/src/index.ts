export * from './password.js';
export * from './migrate.js';
export * from './seed.js';
export * from './server.js';
export * from './test-database.js';
export * from './wait.js';
export * from './tls.js';
export * from './replication.js';
