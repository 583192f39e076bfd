// The built API (@mokakbab/api resolves to dist here) exactly as its server.ts builds it, except that the participants page runs
// without its authenticate hook: the auth scenario's "auth off" arm, to price what auth costs. The page still has a viewer
// (a fixed seeded member), so both arms run the same statement with the same block filter: with no viewer the filter's
// parameter is NULL and the optimizer drops the per-row probe, which made auth off cheaper in SQL, not only in auth.
import Fastify, { type FastifyReply, type FastifyRequest, type HookHandlerDoneFunction } from 'fastify';
import fp from 'fastify-plugin';
import { loadApiConfig } from '@mokakbab/config';
import { buildAdmin, createLogger, listen, serverOptions, serviceApp, warmInBackground } from '@mokakbab/api';
import { PARTICIPANTS_ROUTE } from '../lib/read-routes.js';

// Member 1 exists in every seed; the bench seeds no blocks, so any viewer's probes cost the same.
const VIEWER = { id: 1, jti: 'auth-off', exp: Number.MAX_SAFE_INTEGER };
function setViewer(request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
  request.user = VIEWER;
  done();
}

const config = loadApiConfig(process.env);
const logger = createLogger(config);
const app = Fastify(serverOptions(config, logger));
// onRoute sees each route's options before it is registered, in every child plugin.
app.addHook('onRoute', (route) => {
  if (route.method === 'GET' && route.url === PARTICIPANTS_ROUTE) route.onRequest = [setViewer];
});
app.register(fp(serviceApp), { config });
await app.ready();
const admin = await buildAdmin(app, logger);
await listen({ app, admin }, config);
void warmInBackground(app);
process.once('SIGTERM', () => void Promise.all([app.close(), admin.close()]).finally(() => process.exit(0)));
