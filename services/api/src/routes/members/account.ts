// A member editing or deleting their own account.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { hashPassword } from '@mokakbab/db';
import { forbidden, memberGone, notFound } from '../../errors.js';
import { IdParams, errors } from '../../schemas/common.js';
import { UpdateMemberBody } from '../../schemas/member-edits.js';
import { MemberResponse } from '../../schemas/members.js';
import { requireSignIn } from '../signed-in.js';

const plugin: FastifyPluginAsyncTypebox = async (fastify) => {
  requireSignIn(fastify);
  const { members, memberEdits } = fastify.repos;
  const { config } = fastify;
  const tags = ['members'];

  /** 404 for an unknown member, 403 for someone else's account (as the original answers). */
  async function assertOwner(id: number, callerId: number): Promise<void> {
    if (id === callerId) return;
    if (!(await members.findProfile(id))) throw notFound('MEMBER_NOT_FOUND', `Member ${id} not found.`);
    throw forbidden('NOT_OWNER', 'Only the member can change or delete their account.');
  }

  fastify.patch(
    '/:id',
    {
      schema: {
        tags,
        params: IdParams,
        body: UpdateMemberBody,
        response: { 200: MemberResponse, ...errors(400, 401, 403, 404, 413, 415, 503) },
      },
    },
    async (request) => {
      const { id } = request.params;
      await assertOwner(id, request.user.id);
      const { name, nickname, password } = request.body;
      const passwordHash = password === undefined ? undefined : await hashPassword(password, config.scryptCost);
      // A new password ends every session of the member (the repository revokes in the same transaction).
      const updated = await memberEdits.update(id, { name, nickname, passwordHash });
      if (!updated) throw memberGone();
      const profile = await members.findProfile(id);
      if (!profile) throw memberGone();
      return profile;
    },
  );

  fastify.delete(
    '/:id',
    {
      schema: { tags, params: IdParams, response: { 204: {}, ...errors(400, 401, 403, 404, 503) } },
    },
    async (request, reply) => {
      const { id } = request.params;
      await assertOwner(id, request.user.id);
      if (!(await memberEdits.remove(id))) throw memberGone();
      return reply.code(204).send();
    },
  );
};

export default plugin;
