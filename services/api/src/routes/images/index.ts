// Image uploads (an article's image, a member's profile image) and serving them back by URL.
import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyBaseLogger } from 'fastify';
import { Type } from 'typebox';
import { HttpError, forbidden, memberGone, notFound } from '../../errors.js';
import { imageTypeOfKey } from '../../images/image-type.js';
import { createImageStore, spoolDirMaker, type ImageStore } from '../../images/store.js';
import { receiveImage } from '../../images/upload.js';
import { IdParams, errors } from '../../schemas/common.js';
import { UploadedImage } from '../../schemas/images.js';
import { requireSignIn } from '../signed-in.js';

const KEY_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\\.(jpg|png|webp)$';
// Keys are random and never reused: a served image never changes.
const IMMUTABLE = 'public, max-age=31536000, immutable';

const storageUnavailable = () =>
  new HttpError(503, 'STORAGE_UNAVAILABLE', 'The image storage is unavailable; retry shortly.', { 'retry-after': '1' });

/** Storage failures (S3 down, disk full) are a 503 like the database's; client errors pass. */
async function guarded<T>(log: FastifyBaseLogger, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (err instanceof HttpError || (err as { statusCode?: number }).statusCode !== undefined) throw err;
    log.warn({ err }, 'image storage failed');
    throw storageUnavailable();
  }
}

const plugin: FastifyPluginAsyncTypebox = async (fastify) => {
  const { config, repos } = fastify;
  const store: ImageStore = createImageStore(config);
  const ensureSpoolDir = spoolDirMaker(store);
  fastify.addHook('onClose', async () => store.close());
  // Registered here only: the multipart parser exists for these routes and no others.
  await fastify.register(multipart, { limits: { fileSize: config.imageMaxBytes } });
  const uploadErrors = errors(400, 401, 413, 415, 503);

  // Uploads need a signed-in member; serving an image back needs nothing.
  await fastify.register(async (scope) => {
    const signedIn = requireSignIn(scope);
    signedIn.patch(
      '/articles/upload-image',
      {
        schema: {
          tags: ['articles'],
          consumes: ['multipart/form-data'],
          response: { 200: UploadedImage, ...uploadErrors },
        },
      },
      async (request) => guarded(request.log, receiveImage(request, store, config.imageMaxBytes, ensureSpoolDir)),
    );

    signedIn.patch(
      '/members/:id/profile-image',
      {
        schema: {
          tags: ['members'],
          consumes: ['multipart/form-data'],
          params: IdParams,
          response: { 200: UploadedImage, ...uploadErrors, ...errors(403, 404) },
        },
      },
      async (request) => {
        const { id } = request.params;
        if (id !== request.user.id) {
          if (!(await repos.members.findProfile(id))) throw notFound('MEMBER_NOT_FOUND', `Member ${id} not found.`);
          throw forbidden('NOT_OWNER', 'Only the member can change their profile image.');
        }
        const image = await guarded(request.log, receiveImage(request, store, config.imageMaxBytes, ensureSpoolDir));
        if (!(await repos.memberEdits.update(id, { profileImage: image.location }))) throw memberGone();
        return image;
      },
    );
  });

  fastify.get(
    '/images/:key',
    {
      schema: {
        tags: ['images'],
        params: Type.Object({ key: Type.String({ pattern: KEY_PATTERN }) }),
        response: errors(400, 404, 503),
      },
    },
    async (request, reply) => {
      const { key } = request.params;
      const image = await guarded(request.log, store.get(key));
      if (!image) throw notFound('IMAGE_NOT_FOUND', `Image ${key} not found.`);
      return reply
        .type(imageTypeOfKey(key)!.contentType)
        .header('content-length', image.contentLength)
        .header('cache-control', IMMUTABLE)
        .header('x-content-type-options', 'nosniff')
        .send(image.body);
    },
  );
};

export default plugin;
