import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { notFound } from '../../errors.js';
import { IdParams, errors } from '../../schemas/common.js';
import { MemberResponse } from '../../schemas/members.js';
import { requireSignIn } from '../signed-in.js';

const plugin: FastifyPluginAsyncTypebox = async (fastify) => {
  requireSignIn(fastify);
  const { members } = fastify.repos;

  fastify.get(
    '/:id',
    {
      schema: {
        tags: ['members'],
        params: IdParams,
        response: { 200: MemberResponse, ...errors(400, 401, 404, 503) },
      },
    },
    async (request) => {
      const member = await members.findProfile(request.params.id);
      if (!member) throw notFound('MEMBER_NOT_FOUND', `Member ${request.params.id} not found.`);
      return member;
    },
  );
};

export default plugin;
