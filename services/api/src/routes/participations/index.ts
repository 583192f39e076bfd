import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { conflict, forbidden, notFound } from '../../errors.js';
import { PageQuery, IdParams, errors, DEFAULT_PAGE_LIMIT } from '../../schemas/common.js';
import { ArticleIdParams, JoinBody, ParticipantPage, Participation } from '../../schemas/participations.js';
import { requireSignIn } from '../signed-in.js';

const plugin: FastifyPluginAsyncTypebox = async (fastify) => {
  requireSignIn(fastify);
  const { participations, articles } = fastify.repos;
  const tags = ['participations'];
  const articleNotFound = (id: number) => notFound('ARTICLE_NOT_FOUND', `Article ${id} not found.`);

  fastify.get(
    '/articles/:articleId',
    {
      schema: {
        tags,
        params: ArticleIdParams,
        querystring: PageQuery,
        response: { 200: ParticipantPage, ...errors(400, 401, 404, 503) },
      },
    },
    async (request) => {
      const { articleId } = request.params;
      const { cursor, limit = DEFAULT_PAGE_LIMIT } = request.query;
      const page = await participations.page(articleId, request.user.id, cursor, limit);
      // Only an empty page can mean "no such article": the common case costs one query.
      if (page.items.length === 0 && page.nextCursor === null && !(await articles.exists(articleId)))
        throw articleNotFound(articleId);
      return page;
    },
  );

  fastify.post(
    '/',
    {
      schema: { tags, body: JoinBody, response: { 201: Participation, ...errors(400, 401, 404, 409, 503) } },
    },
    async (request, reply) => {
      const { articleId } = request.body;
      const result = await participations.join(articleId, request.user.id);
      if (result === 'ARTICLE_NOT_FOUND') throw articleNotFound(articleId);
      if (result === 'ALREADY_JOINED') throw conflict('ALREADY_JOINED', `You already joined article ${articleId}.`);
      return reply.code(201).send(result);
    },
  );

  fastify.delete(
    '/:id',
    {
      schema: {
        tags,
        params: IdParams,
        response: { 200: Participation, ...errors(400, 401, 403, 404, 503) },
      },
    },
    async (request) => {
      const participation = await participations.findById(request.params.id);
      if (!participation) throw notFound('PARTICIPATION_NOT_FOUND', `Participation ${request.params.id} not found.`);
      if (participation.memberId !== request.user.id) {
        throw forbidden('NOT_OWNER', 'Only the member who joined can cancel this participation.');
      }
      await participations.cancel(participation.id);
      return { ...participation, status: 'CANCELLED' as const };
    },
  );
};

export default plugin;
