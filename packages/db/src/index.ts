export * from './password.js';
export * from './migrate.js';
export * from './seed.js';
