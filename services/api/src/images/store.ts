// Where uploaded images live: an S3 bucket when S3_ENDPOINT and S3_BUCKET are set, a directory on
// local disk otherwise (pnpm dev). Both take a finished file on local disk (the upload is spooled
// there first, so its length is known and memory holds only stream chunks).
import { createReadStream } from 'node:fs';
import { mkdir, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { ApiConfig } from '@mokakbab/config';

export interface StoredImage {
  body: Readable;
  contentLength: number;
}

export interface ImageStore {
  /** Directory where uploads are spooled before `put`; `ready` creates it. */
  readonly spoolDir: string;
  /** Takes over the spooled file at `path` (moves or uploads it, then it is gone). */
  put(key: string, path: string, contentType: string): Promise<void>;
  get(key: string): Promise<StoredImage | undefined>;
  close(): void;
}

// S3 calls are bounded like every other dependency call.
const S3_REQUEST_TIMEOUT_MS = 10_000;

function diskStore(dir: string): ImageStore {
  return {
    // The same file system as the images: `put` is a rename.
    spoolDir: join(dir, '.incoming'),
    async put(key, path) {
      await rename(path, join(dir, key));
    },
    async get(key) {
      const path = join(dir, key);
      try {
        const { size } = await stat(path);
        return { body: createReadStream(path), contentLength: size };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
    },
    close() {},
  };
}

function s3Store(config: ApiConfig, endpoint: URL, bucket: string): ImageStore {
  const client = new S3Client({
    endpoint: endpoint.href,
    region: config.s3Region,
    // MinIO and most S3-compatible servers address buckets by path, not by host name.
    forcePathStyle: true,
    ...(config.s3AccessKeyId !== undefined && config.s3SecretAccessKey !== undefined
      ? { credentials: { accessKeyId: config.s3AccessKeyId, secretAccessKey: config.s3SecretAccessKey } }
      : {}),
    // Checksums only where the API requires them: S3-compatible servers differ in what they accept.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: { requestTimeout: S3_REQUEST_TIMEOUT_MS, connectionTimeout: S3_REQUEST_TIMEOUT_MS },
  });
  return {
    spoolDir: join(config.imageDir, '.incoming'),
    async put(key, path, contentType) {
      try {
        const { size } = await stat(path);
        await client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: createReadStream(path),
            ContentLength: size,
            ContentType: contentType,
          }),
        );
      } finally {
        await unlink(path).catch(() => undefined);
      }
    },
    async get(key) {
      try {
        const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return { body: object.Body as Readable, contentLength: object.ContentLength ?? 0 };
      } catch (err) {
        if (err instanceof NoSuchKey) return undefined;
        throw err;
      }
    },
    close() {
      client.destroy();
    },
  };
}

export function createImageStore(config: ApiConfig): ImageStore {
  return config.s3Endpoint !== undefined && config.s3Bucket !== undefined
    ? s3Store(config, config.s3Endpoint, config.s3Bucket)
    : diskStore(config.imageDir);
}

/** Creates the spool directory on the first upload, so an instance that never takes one makes none. */
export function spoolDirMaker(store: ImageStore): () => Promise<void> {
  let made: Promise<unknown> | undefined;
  return async () => {
    made ??= mkdir(store.spoolDir, { recursive: true }).catch((err: unknown) => {
      made = undefined;
      throw err;
    });
    await made;
  };
}
