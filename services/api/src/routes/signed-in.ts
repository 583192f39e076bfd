// The routes a valid access token is required for. A route group calls `requireSignIn` on its own
// (encapsulated) instance: one onRequest hook for every route in it, as fastify/demo's autohooks
// do, and the bearer scheme in their OpenAPI, instead of both on each route.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';

const BEARER = [{ bearerAuth: [] }];

/** Returns the group typed for TypeBox schemas (a nested scope starts without the type provider). */
export function requireSignIn(group: FastifyInstance) {
  group.addHook('onRoute', (route) => {
    route.schema = { ...route.schema, security: BEARER };
  });
  group.addHook('onRequest', group.authenticate);
  return group.withTypeProvider<TypeBoxTypeProvider>();
}
