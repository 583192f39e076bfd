// The built API (@mokakbab/api resolves to dist here) exactly as its server.ts builds it, except that the participants page runs
// without its authenticate hook: the auth scenario's "auth off" arm, to price what auth costs.
import Fastify from 'fastify';
import fp from 'fastify-plugin';
import { loadApiConfig } from '@mokakbab/config';
import { buildAdmin, createLogger, listen, serverOptions, serviceApp, warmInBackground } from '@mokakbab/api';
import { PARTICIPANTS_ROUTE } from '../lib/read-routes.js';

const config = loadApiConfig(process.env);
const logger = createLogger(config);
const app = Fastify(serverOptions(config, logger));
// onRoute sees each route's options before it is registered, in every child plugin.
app.addHook('onRoute', (route) => {
  if (route.method === 'GET' && route.url === PARTICIPANTS_ROUTE) route.onRequest = [];
});
app.register(fp(serviceApp), { config });
await app.ready();
const admin = await buildAdmin(app, logger);
await listen({ app, admin }, config);
void warmInBackground(app);
process.once('SIGTERM', () => void Promise.all([app.close(), admin.close()]).finally(() => process.exit(0)));
