// The SQL of every resource, built once at start and shared by the routes.
import fp from 'fastify-plugin';
import { createArticlesRepository, type ArticlesRepository } from '../../repositories/articles.js';
import { createMembersRepository, type MembersRepository } from '../../repositories/members.js';
import { createParticipationsRepository, type ParticipationsRepository } from '../../repositories/participations.js';
import { createRefreshTokensRepository, type RefreshTokensRepository } from '../../repositories/refresh-tokens.js';

export interface Repositories {
  members: MembersRepository;
  refreshTokens: RefreshTokensRepository;
  articles: ArticlesRepository;
  participations: ParticipationsRepository;
}

declare module 'fastify' {
  interface FastifyInstance {
    repos: Repositories;
  }
}

export default fp(
  async function repositoriesPlugin(fastify) {
    const { db, config } = fastify;
    fastify.decorate('repos', {
      members: createMembersRepository(db),
      refreshTokens: createRefreshTokensRepository(db, config.refreshTokenTtlS, config.maxSessionsPerMember),
      articles: createArticlesRepository(db),
      participations: createParticipationsRepository(db),
    });
  },
  { name: 'repositories', dependencies: ['db'] },
);
