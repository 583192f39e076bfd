// A real S3-protocol server (npm s3rver) on a free loopback port, with one bucket, in a temp dir.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';

export interface TestS3 {
  /** The API environment that stores images in this server's bucket. */
  env: Record<string, string>;
  close(): Promise<void>;
}

// s3rver accepts this fixed key pair only.
const S3RVER_KEY = 'S3RVER';

export async function startS3(bucket = 'images'): Promise<TestS3> {
  const directory = await mkdtemp(join(tmpdir(), 'mokakbab-s3-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  });
  const { port } = await server.run();
  return {
    env: {
      S3_ENDPOINT: `http://127.0.0.1:${port}`,
      S3_BUCKET: bucket,
      S3_ACCESS_KEY_ID: S3RVER_KEY,
      S3_SECRET_ACCESS_KEY: S3RVER_KEY,
    },
    async close() {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
