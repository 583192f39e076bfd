import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { HttpError, notFound } from '../../errors.js';
import { Article, ArticlePage, CreateArticleBody } from '../../schemas/articles.js';
import { IdParams, PageQuery, errors, DEFAULT_PAGE_LIMIT } from '../../schemas/common.js';
import { requireSignIn } from '../signed-in.js';
import { REFERENCE_MESSAGES, invalidTimeRange, parseInstant } from './input.js';

const plugin: FastifyPluginAsyncTypebox = async (fastify) => {
  const { articles } = fastify.repos;
  const tags = ['articles'];

  fastify.get(
    '/',
    {
      schema: { tags, querystring: PageQuery, response: { 200: ArticlePage, ...errors(400, 401, 503) } },
      // Anyone may list; a signed-in viewer's list leaves out the members they blocked.
      onRequest: (request, reply, done) => {
        if (request.headers.authorization === undefined) return done();
        fastify.authenticate.call(fastify, request, reply, done);
      },
    },
    async (request) => {
      const { cursor, limit = DEFAULT_PAGE_LIMIT } = request.query;
      return request.headers.authorization === undefined
        ? articles.page(cursor, limit)
        : articles.pageForViewer(request.user.id, cursor, limit);
    },
  );

  fastify.get(
    '/:id',
    { schema: { tags, params: IdParams, response: { 200: Article, ...errors(400, 404, 503) } } },
    async (request) => {
      const article = await articles.findById(request.params.id);
      if (!article) throw notFound('ARTICLE_NOT_FOUND', `Article ${request.params.id} not found.`);
      return article;
    },
  );

  await fastify.register(async (scope) => {
    const signedIn = requireSignIn(scope);
    signedIn.post(
      '/',
      {
        schema: {
          tags,
          body: CreateArticleBody,
          response: { 201: Article, ...errors(400, 401, 409, 413, 415, 503) },
        },
      },
      async (request, reply) => {
        const startTime = parseInstant(request.body.startTime, 'startTime');
        const endTime = parseInstant(request.body.endTime, 'endTime');
        if (endTime.getTime() <= startTime.getTime()) {
          throw invalidTimeRange();
        }
        // A deleted author (fk_article_member) is the error handler's 401.
        const result = await articles.create(request.user.id, request.body, startTime, endTime);
        if (typeof result === 'string') throw new HttpError(400, result, REFERENCE_MESSAGES[result]);
        return reply.code(201).send(result);
      },
    );
  });
};

export default plugin;
