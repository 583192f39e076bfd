// The OpenAPI document (from the routes' TypeBox schemas) and its UI at /docs.
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import fp from 'fastify-plugin';

export default fp(
  async function swaggerPlugin(fastify) {
    await fastify.register(fastifySwagger, {
      openapi: {
        info: {
          title: 'mokakbab API',
          description: 'Meal meetups: articles, participations, members.',
          version: '0.1.0',
        },
        components: {
          securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
        },
      },
    });
    await fastify.register(fastifySwaggerUi, { routePrefix: '/docs' });
  },
  { name: 'swagger' },
);
