// The caller's own participations.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { notFound } from '../../errors.js';
import { DEFAULT_PAGE_LIMIT, IdParams, PageQuery, errors } from '../../schemas/common.js';
import { MyParticipation, MyParticipationPage } from '../../schemas/my-participations.js';
import { requireSignIn } from '../signed-in.js';

const plugin: FastifyPluginAsyncTypebox = async (fastify) => {
  requireSignIn(fastify);
  const { myParticipations } = fastify.repos;
  const tags = ['participations'];

  fastify.get(
    '/',
    {
      schema: {
        tags,
        querystring: PageQuery,
        response: { 200: MyParticipationPage, ...errors(400, 401, 503) },
      },
    },
    async (request) =>
      myParticipations.page(request.user.id, request.query.cursor, request.query.limit ?? DEFAULT_PAGE_LIMIT),
  );

  fastify.get(
    '/:id',
    {
      schema: { tags, params: IdParams, response: { 200: MyParticipation, ...errors(400, 401, 404, 503) } },
    },
    async (request) => {
      // Someone else's participation is a 404 too: ids of others' participations are not disclosed.
      const participation = await myParticipations.findOwn(request.params.id, request.user.id);
      if (!participation) throw notFound('PARTICIPATION_NOT_FOUND', `Participation ${request.params.id} not found.`);
      return participation;
    },
  );
};

export default plugin;
