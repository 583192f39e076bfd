import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TestDatabase } from '@mokakbab/testkit';
import { bearer, build, errorBody, seededDatabase, type TestApi } from './helper.js';
import { startS3, type TestS3 } from './helper-s3.js';
import { accessTokenFor } from './helper-tokens.js';

const MAX_BYTES = 64 * 1024;

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(200, 7)]);
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(300, 1)]);
const WEBP = Buffer.concat([
  Buffer.from('RIFF'),
  Buffer.from([0, 1, 0, 0]),
  Buffer.from('WEBPVP8 '),
  Buffer.alloc(100, 2),
]);

function multipart(content: Buffer, { field = 'image', filename = 'photo.png', type = 'image/png' } = {}) {
  const boundary = '----mokakbab-test-boundary';
  const payload = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${filename}"\r\nContent-Type: ${type}\r\n\r\n`,
    ),
    content,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { payload, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

let db: TestDatabase;

before(async () => {
  db = await seededDatabase({ members: 3, articles: 0, participations: 0 });
});

after(() => db.close());

// The same behaviour whichever store is configured.
for (const storeName of ['s3', 'disk'] as const) {
  describe(`images stored on ${storeName}`, () => {
    let api: TestApi;
    let s3: TestS3 | undefined;
    let imageDir: string;

    before(async () => {
      imageDir = await mkdtemp(join(tmpdir(), 'mokakbab-images-'));
      if (storeName === 's3') s3 = await startS3();
      api = await build(undefined, db, {
        env: { IMAGE_MAX_BYTES: String(MAX_BYTES), IMAGE_DIR: imageDir, ...s3?.env },
      });
    });

    after(async () => {
      await api.app.close();
      await api.admin.close();
      await s3?.close();
      await rm(imageDir, { recursive: true, force: true });
    });

    const upload = (body: ReturnType<typeof multipart>, memberId = 1, url = '/articles/upload-image') =>
      api.app.inject({
        method: 'PATCH',
        url,
        headers: { ...body.headers, ...bearer(accessTokenFor(api.app, memberId)) },
        payload: body.payload,
      });

    test('PATCH /articles/upload-image stores a PNG, JPEG or WebP and serves it back at its location', async () => {
      for (const [content, type, extension] of [
        [PNG, 'image/png', 'png'],
        [JPEG, 'image/jpeg', 'jpg'],
        [WEBP, 'image/webp', 'webp'],
      ] as const) {
        // The file name and the client's type say nothing: the bytes decide.
        const res = await upload(multipart(content, { filename: 'x.gif', type: 'application/octet-stream' }));
        assert.equal(res.statusCode, 200, res.body);
        const { filename, location } = res.json<{ filename: string; location: string }>();
        assert.ok(filename.endsWith(`.${extension}`), filename);
        assert.equal(location, `/images/${filename}`);
        const served = await api.app.inject({ method: 'GET', url: location });
        assert.equal(served.statusCode, 200);
        assert.equal(served.headers['content-type'], type);
        assert.deepEqual(served.rawPayload, content);
        // On S3 the image is in the bucket only; on disk it is a file in IMAGE_DIR.
        assert.equal((await readdir(imageDir)).includes(filename), storeName === 'disk');
      }
    });

    test('the location is what an article stores as articleImage', async () => {
      const { location } = (await upload(multipart(PNG))).json<{ location: string }>();
      const [place] = await db.query<{ category_id: number; region_id: number; district_id: number }[]>(
        'SELECT (SELECT MIN(id) FROM category) AS category_id, region_id, id AS district_id FROM district ORDER BY id LIMIT 1',
      );
      const res = await api.app.inject({
        method: 'POST',
        url: '/articles',
        headers: bearer(accessTokenFor(api.app, 1)),
        payload: {
          title: 'With a picture',
          content: 'See the picture',
          categoryId: place!.category_id,
          regionId: place!.region_id,
          districtId: place!.district_id,
          startTime: '2026-12-01T12:00:00.000Z',
          endTime: '2026-12-01T13:00:00.000Z',
          articleImage: location,
        },
      });
      assert.equal(res.json().articleImage, location);
    });

    test('a file that is not JPEG, PNG or WebP is 415, whatever its name says; nothing is kept', async () => {
      const gif = Buffer.concat([Buffer.from('GIF89a'), Buffer.alloc(100)]);
      for (const content of [gif, Buffer.from('<svg/>'), Buffer.alloc(0)]) {
        const res = await upload(multipart(content, { filename: 'photo.png' }));
        assert.equal(res.statusCode, 415, res.body);
        assert.equal(errorBody(res).code, 'UNSUPPORTED_IMAGE_TYPE');
      }
      assert.deepEqual(await readdir(join(imageDir, '.incoming')), []);
    });

    test('a file over IMAGE_MAX_BYTES is 413 and nothing is kept', async () => {
      const res = await upload(multipart(Buffer.concat([PNG, Buffer.alloc(MAX_BYTES)])));
      assert.equal(res.statusCode, 413, res.body);
      assert.deepEqual(await readdir(join(imageDir, '.incoming')), []);
    });

    test('no file, a wrong field name, or no token: 400, 400, 401', async () => {
      const noFile = await api.app.inject({
        method: 'PATCH',
        url: '/articles/upload-image',
        headers: { ...bearer(accessTokenFor(api.app, 1)), 'content-type': 'multipart/form-data; boundary=x' },
        payload: '--x--\r\n',
      });
      assert.equal(noFile.statusCode, 400, noFile.body);
      const wrongField = await upload(multipart(PNG, { field: 'file' }));
      assert.equal(wrongField.statusCode, 400);
      const json = await api.app.inject({
        method: 'PATCH',
        url: '/articles/upload-image',
        headers: bearer(accessTokenFor(api.app, 1)),
        payload: { image: 'x' },
      });
      assert.equal(json.statusCode, 415);
      const anonymous = await api.app.inject({ method: 'PATCH', url: '/articles/upload-image', ...multipart(PNG) });
      assert.equal(anonymous.statusCode, 401);
    });

    test('PATCH /members/:id/profile-image sets the profile image; others get 403, unknown 404', async () => {
      const res = await upload(multipart(JPEG), 2, '/members/2/profile-image');
      assert.equal(res.statusCode, 200, res.body);
      const { location } = res.json<{ location: string }>();
      const profile = await api.app.inject({
        method: 'GET',
        url: '/members/2',
        headers: bearer(accessTokenFor(api.app, 1)),
      });
      assert.equal(profile.json().profileImage, location);
      assert.equal((await upload(multipart(JPEG), 1, '/members/2/profile-image')).statusCode, 403);
      assert.equal((await upload(multipart(JPEG), 1, '/members/999/profile-image')).statusCode, 404);
    });

    test('an unknown image is 404 and a malformed key 400', async () => {
      const unknown = await api.app.inject({ method: 'GET', url: '/images/00000000-0000-0000-0000-000000000000.png' });
      assert.equal(unknown.statusCode, 404);
      assert.equal((await api.app.inject({ method: 'GET', url: '/images/..%2F..%2Fetc%2Fpasswd' })).statusCode, 400);
    });
  });
}

test('with S3 configured but unreachable, an upload is a fast 503', async (t) => {
  const s3 = await startS3();
  await s3.close();
  const imageDir = await mkdtemp(join(tmpdir(), 'mokakbab-images-'));
  t.after(() => rm(imageDir, { recursive: true, force: true }));
  const api = await build(t, db, { env: { IMAGE_DIR: imageDir, ...s3.env } });
  const res = await api.app.inject({
    method: 'PATCH',
    url: '/articles/upload-image',
    ...(() => {
      const body = multipart(PNG);
      return { payload: body.payload, headers: { ...body.headers, ...bearer(accessTokenFor(api.app, 1)) } };
    })(),
  });
  assert.equal(res.statusCode, 503, res.body);
  assert.equal(errorBody(res).code, 'STORAGE_UNAVAILABLE');
  assert.equal(res.headers['retry-after'], '1');
});
