// Editing, deleting and liking an article.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { HttpError, forbidden, notFound } from '../../errors.js';
import type { EditProblem } from '../../repositories/article-edits.js';
import { UpdateArticleBody } from '../../schemas/article-edits.js';
import { Article } from '../../schemas/articles.js';
import { IdParams, errors } from '../../schemas/common.js';
import { LikeResponse } from '../../schemas/likes.js';
import { REFERENCE_MESSAGES, invalidTimeRange, parseInstant } from './input.js';
import { requireSignIn } from '../signed-in.js';

const articleNotFound = (id: number) => notFound('ARTICLE_NOT_FOUND', `Article ${id} not found.`);

function editError(problem: EditProblem, id: number): HttpError {
  switch (problem) {
    case 'ARTICLE_NOT_FOUND':
      return articleNotFound(id);
    case 'NOT_OWNER':
      return forbidden('NOT_OWNER', 'Only the author can change or delete this article.');
    case 'INVALID_TIME_RANGE':
      return invalidTimeRange();
    default:
      return new HttpError(400, problem, REFERENCE_MESSAGES[problem]);
  }
}

const plugin: FastifyPluginAsyncTypebox = async (fastify) => {
  requireSignIn(fastify);
  const { articles, articleEdits, likes } = fastify.repos;
  const tags = ['articles'];

  fastify.patch(
    '/:id',
    {
      schema: {
        tags,
        params: IdParams,
        body: UpdateArticleBody,
        response: { 200: Article, ...errors(400, 401, 403, 404, 413, 415, 503) },
      },
    },
    async (request) => {
      const { id } = request.params;
      const { startTime, endTime, ...rest } = request.body;
      const problem = await articleEdits.update(id, request.user.id, {
        ...rest,
        ...(startTime !== undefined && { startTime: parseInstant(startTime, 'startTime') }),
        ...(endTime !== undefined && { endTime: parseInstant(endTime, 'endTime') }),
      });
      if (problem) throw editError(problem, id);
      const article = await articles.findById(id);
      if (!article) throw articleNotFound(id);
      return article;
    },
  );

  fastify.delete(
    '/:id',
    {
      schema: { tags, params: IdParams, response: { 204: {}, ...errors(400, 401, 403, 404, 503) } },
    },
    async (request, reply) => {
      const problem = await articleEdits.remove(request.params.id, request.user.id);
      if (problem) throw editError(problem, request.params.id);
      return reply.code(204).send();
    },
  );

  fastify.put(
    '/:id/like',
    {
      schema: { tags, params: IdParams, response: { 200: LikeResponse, ...errors(400, 401, 404, 503) } },
    },
    async (request) => {
      // A deleted member (fk_article_like_member) is the error handler's 401.
      const state = await likes.toggle(request.params.id, request.user.id);
      if (!state) throw articleNotFound(request.params.id);
      return state;
    },
  );
};

export default plugin;
