import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { HttpError, badRequest, notFound } from '../../errors.js';
import type { ReferenceProblem } from '../../repositories/articles.js';
import { Article, ArticlePage, CreateArticleBody } from '../../schemas/articles.js';
import { IdParams, PageQuery, errors, DEFAULT_PAGE_LIMIT } from '../../schemas/common.js';

const REFERENCE_MESSAGES: Readonly<Record<ReferenceProblem, string>> = {
  CATEGORY_NOT_FOUND: 'body/categoryId does not name an existing category',
  REGION_NOT_FOUND: 'body/regionId does not name an existing region',
  DISTRICT_NOT_FOUND: 'body/districtId does not name an existing district',
  DISTRICT_NOT_IN_REGION: 'body/districtId is not a district of body/regionId',
};

// DATETIME holds years 1000..9999; the schema's date-time format lets through instants outside
// that in UTC (9999-12-31T23:00:00-05:00) and leap seconds, which Date cannot represent.
const MIN_YEAR = 1000;
const MAX_YEAR = 9999;

function parseInstant(value: string, field: string): Date {
  const date = new Date(value);
  const year = date.getUTCFullYear();
  if (Number.isNaN(year) || year < MIN_YEAR || year > MAX_YEAR) {
    throw badRequest('INVALID_DATE', `body/${field} must be a time between the years ${MIN_YEAR} and ${MAX_YEAR} UTC`);
  }
  return date;
}

const plugin: FastifyPluginAsyncTypebox = async (fastify) => {
  const { articles } = fastify.repos;
  const tags = ['articles'];

  fastify.get(
    '/',
    { schema: { tags, querystring: PageQuery, response: { 200: ArticlePage, ...errors(400, 503) } } },
    async (request) => articles.page(request.query.cursor, request.query.limit ?? DEFAULT_PAGE_LIMIT),
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
        response: { 201: Article, ...errors(400, 401, 409, 413, 415, 503) },
      },
      onRequest: fastify.authenticate,
    },
    async (request, reply) => {
      const startTime = parseInstant(request.body.startTime, 'startTime');
      const endTime = parseInstant(request.body.endTime, 'endTime');
      if (endTime.getTime() <= startTime.getTime()) {
        throw badRequest('INVALID_TIME_RANGE', 'body/endTime must be after body/startTime');
      }
      // A deleted author (fk_article_member) is the error handler's 401.
      const result = await articles.create(request.user.id, request.body, startTime, endTime);
      if (typeof result === 'string') throw new HttpError(400, result, REFERENCE_MESSAGES[result]);
      return reply.code(201).send(result);
    },
  );
};

export default plugin;
