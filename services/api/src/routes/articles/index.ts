import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { HttpError, badRequest, notFound } from '../../errors.js';
import type { ReferenceProblem } from '../../repositories/articles.js';
import { Article, ArticlePage, CreateArticleBody } from '../../schemas/articles.js';
import { IdParams, PageQuery, errors } from '../../schemas/common.js';

const DEFAULT_LIMIT = 20;

const REFERENCE_MESSAGES: Readonly<Record<ReferenceProblem, string>> = {
  CATEGORY_NOT_FOUND: 'body/categoryId does not name an existing category',
  REGION_NOT_FOUND: 'body/regionId does not name an existing region',
  DISTRICT_NOT_FOUND: 'body/districtId does not name an existing district',
  DISTRICT_NOT_IN_REGION: 'body/districtId is not a district of body/regionId',
};

const plugin: FastifyPluginAsyncTypebox = async (fastify) => {
  const { articles } = fastify.repos;
  const tags = ['articles'];

  fastify.get(
    '/',
    { schema: { tags, querystring: PageQuery, response: { 200: ArticlePage, ...errors(400, 503) } } },
    async (request) => articles.page(request.query.cursor, request.query.limit ?? DEFAULT_LIMIT),
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

  fastify.post(
    '/',
    {
      schema: {
        tags,
        security: [{ bearerAuth: [] }],
        body: CreateArticleBody,
        response: { 201: Article, ...errors(400, 401, 413, 415, 503) },
      },
      onRequest: fastify.authenticate,
    },
    async (request, reply) => {
      const { startTime, endTime } = request.body;
      if (Date.parse(endTime) <= Date.parse(startTime)) {
        throw badRequest('INVALID_TIME_RANGE', 'body/endTime must be after body/startTime');
      }
      const result = await articles.create(request.user.id, request.body);
      if (typeof result === 'string') throw new HttpError(400, result, REFERENCE_MESSAGES[result]);
      return reply.code(201).send(result);
    },
  );
};

export default plugin;
