// One multipart image upload, streamed: the first bytes decide the type, the rest flows to a spool
// file under the size limit, and the store takes the finished file.
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FastifyRequest } from 'fastify';
import { HttpError, badRequest } from '../errors.js';
import { SNIFF_BYTES, sniffImageType, type ImageType } from './image-type.js';
import type { ImageStore } from './store.js';

export const IMAGE_FIELD = 'image';

const unsupportedType = () =>
  new HttpError(415, 'UNSUPPORTED_IMAGE_TYPE', `body/${IMAGE_FIELD} must be a JPEG, PNG or WebP image`);

const tooLarge = (maxBytes: number) =>
  new HttpError(413, 'IMAGE_TOO_LARGE', `body/${IMAGE_FIELD} is larger than ${maxBytes} bytes`);

/** Passes bytes through once the head is a known image type; fails the stream otherwise. */
class TypeSniffer extends Transform {
  type: ImageType | undefined;
  #head: Buffer[] = [];
  #headBytes = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    if (this.type) return done(null, chunk);
    this.#head.push(chunk);
    this.#headBytes += chunk.length;
    if (this.#headBytes < SNIFF_BYTES) return done();
    this.#decide(done);
  }

  override _flush(done: TransformCallback): void {
    if (this.type) return done();
    this.#decide(done);
  }

  #decide(done: TransformCallback): void {
    const head = Buffer.concat(this.#head);
    this.#head = [];
    this.type = sniffImageType(head);
    if (!this.type) return done(unsupportedType());
    done(null, head);
  }
}

export interface UploadedImageFile {
  filename: string;
  location: string;
}

export async function receiveImage(
  request: FastifyRequest,
  store: ImageStore,
  maxBytes: number,
  ensureSpoolDir: () => Promise<void>,
): Promise<UploadedImageFile> {
  if (!request.isMultipart()) {
    throw new HttpError(
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      `the body must be multipart/form-data with a file field "${IMAGE_FIELD}"`,
    );
  }
  const part = await request.file({ limits: { fileSize: maxBytes, files: 1, fields: 0, parts: 1 } });
  if (!part) throw badRequest('IMAGE_MISSING', `body/${IMAGE_FIELD}: a multipart file field is required`);
  if (part.fieldname !== IMAGE_FIELD) {
    part.file.resume();
    throw badRequest('IMAGE_MISSING', `body/${IMAGE_FIELD}: the file field must be named "${IMAGE_FIELD}"`);
  }
  await ensureSpoolDir();
  const spoolPath = join(store.spoolDir, randomUUID());
  const sniffer = new TypeSniffer();
  try {
    await pipeline(part.file, sniffer, createWriteStream(spoolPath));
    // Past the limit busboy stops the stream early and marks it truncated.
    if (part.file.truncated) throw tooLarge(maxBytes);
    if (!sniffer.type) throw unsupportedType();
    const filename = `${randomUUID()}.${sniffer.type.extension}`;
    await store.put(filename, spoolPath, sniffer.type.contentType);
    return { filename, location: `/images/${filename}` };
  } finally {
    // Gone already when the store took it.
    await unlink(spoolPath).catch(() => undefined);
  }
}
