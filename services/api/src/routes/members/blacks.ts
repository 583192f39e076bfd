// The caller's block list. A block hides the blocked member's articles and participations from the
// caller's article and participant pages.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { badRequest, conflict, memberGone, notFound } from '../../errors.js';
import { BlockBody, BlockPage, BlockedMember } from '../../schemas/blocks.js';
import { DEFAULT_PAGE_LIMIT, IdParams, PageQuery, errors } from '../../schemas/common.js';
import { requireSignIn } from '../signed-in.js';

const plugin: FastifyPluginAsyncTypebox = async (fastify) => {
  requireSignIn(fastify);
  const { blocks } = fastify.repos;
  const tags = ['members'];

  fastify.get(
    '/blacks',
    {
      schema: { tags, querystring: PageQuery, response: { 200: BlockPage, ...errors(400, 401, 503) } },
    },
    async (request) => blocks.page(request.user.id, request.query.cursor, request.query.limit ?? DEFAULT_PAGE_LIMIT),
  );

  fastify.post(
    '/blacks',
    {
      schema: {
        tags,
        body: BlockBody,
        response: { 201: BlockedMember, ...errors(400, 401, 404, 409, 413, 415, 503) },
      },
    },
    async (request, reply) => {
      const { blackedId } = request.body;
      if (blackedId === request.user.id) throw badRequest('CANNOT_BLOCK_SELF', 'body/blackedId is the caller');
      const blocked = await blocks.add(request.user.id, blackedId);
      if (blocked === 'ALREADY_BLOCKED') throw conflict(blocked, `Member ${blackedId} is already blocked.`);
      if (blocked === 'MEMBER_NOT_FOUND') throw notFound(blocked, `Member ${blackedId} not found.`);
      // Deleted between the insert and the read: the cascade took the row with it.
      if (!blocked) throw memberGone();
      return reply.code(201).send(blocked);
    },
  );

  fastify.delete(
    '/blacks/:id',
    {
      schema: { tags, params: IdParams, response: { 204: {}, ...errors(400, 401, 404, 503) } },
    },
    async (request, reply) => {
      if (!(await blocks.remove(request.user.id, request.params.id))) {
        throw notFound('BLOCK_NOT_FOUND', `Member ${request.params.id} is not blocked.`);
      }
      return reply.code(204).send();
    },
  );
};

export default plugin;
