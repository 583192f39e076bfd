// The SQL of every resource, built once at start and shared by the routes.
import fp from 'fastify-plugin';
import { createArticleEditsRepository, type ArticleEditsRepository } from '../../repositories/article-edits.js';
import { createArticlesRepository, type ArticlesRepository } from '../../repositories/articles.js';
import { createBlocksRepository, type BlocksRepository } from '../../repositories/blocks.js';
import { createLikesRepository, type LikesRepository } from '../../repositories/likes.js';
import { createMemberEditsRepository, type MemberEditsRepository } from '../../repositories/member-edits.js';
import {
  createMyParticipationsRepository,
  type MyParticipationsRepository,
} from '../../repositories/my-participations.js';
import { createMembersRepository, type MembersRepository } from '../../repositories/members.js';
import { createParticipationsRepository, type ParticipationsRepository } from '../../repositories/participations.js';
import { createVerificationRepository, type VerificationRepository } from '../../repositories/verification.js';
import { createRefreshTokensRepository, type RefreshTokensRepository } from '../../repositories/refresh-tokens.js';

export interface Repositories {
  members: MembersRepository;
  refreshTokens: RefreshTokensRepository;
  articles: ArticlesRepository;
  participations: ParticipationsRepository;
  articleEdits: ArticleEditsRepository;
  likes: LikesRepository;
  memberEdits: MemberEditsRepository;
  myParticipations: MyParticipationsRepository;
  blocks: BlocksRepository;
  verification: VerificationRepository;
}

declare module 'fastify' {
  interface FastifyInstance {
    repos: Repositories;
  }
}

export default fp(
  async function repositoriesPlugin(fastify) {
    const { db, config } = fastify;
    const members = createMembersRepository(db);
    fastify.decorate('repos', {
      members,
      refreshTokens: createRefreshTokensRepository(db, config.refreshTokenTtlS, config.maxSessionsPerMember),
      articles: createArticlesRepository(db),
      participations: createParticipationsRepository(db),
      articleEdits: createArticleEditsRepository(db),
      likes: createLikesRepository(db),
      memberEdits: createMemberEditsRepository(db),
      myParticipations: createMyParticipationsRepository(db),
      blocks: createBlocksRepository(db),
      verification: createVerificationRepository(db, members, {
        codeTtlS: config.verificationCodeTtlS,
        maxAttempts: config.verificationMaxAttempts,
      }),
    });
  },
  { name: 'repositories', dependencies: ['db'] },
);
