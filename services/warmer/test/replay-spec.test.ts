// The replay list's format: what is accepted, and errors that name the variable.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '@mokakbab/config';
import { loadReplay, parseReplay } from '../src/index.js';

test('a bare array and the { signIn, requests } form are both accepted', () => {
  const bare = parseReplay('[{"method":"get","path":"/articles","expectStatus":200}]', 'WARMER_REPLAY');
  assert.deepEqual(bare, { requests: [{ method: 'GET', path: '/articles', expectStatus: 200 }] });
  const full = parseReplay(
    JSON.stringify({
      signIn: { email: 'member1@example.com', password: 'password1' },
      requests: [
        { method: 'GET', path: '/members/1', headers: { authorization: 'Bearer $TOKEN' }, expectStatus: 200 },
        { method: 'POST', path: '/participations', body: { articleId: 1 }, expectStatus: 201 },
      ],
    }),
    'WARMER_REPLAY',
  );
  assert.equal(full.signIn?.email, 'member1@example.com');
  assert.equal(full.requests.length, 2);
  assert.deepEqual(full.requests[1]?.body, { articleId: 1 });
});

test('every problem is listed, naming the source', () => {
  assert.throws(() => parseReplay('{nope', 'WARMER_REPLAY'), /WARMER_REPLAY is not valid JSON/);
  assert.throws(() => parseReplay('{"requests":{}}', 'WARMER_REPLAY'), /must be an array of requests/);
  assert.throws(() => parseReplay('[]', 'WARMER_REPLAY'), /requests is empty/);
  const err = (() => {
    try {
      parseReplay(
        '[{"method":"FETCH","path":"articles","expectStatus":1000,"headers":{"authorization":"Bearer $TOKEN"}}]',
        'WARMER_REPLAY',
      );
    } catch (e) {
      return e;
    }
  })();
  assert.ok(err instanceof ConfigError);
  assert.equal(err.problems.length, 4);
  assert.match(err.message, /requests\[0\]\.method/);
  assert.match(err.message, /requests\[0\]\.path must start with \//);
  assert.match(err.message, /expectStatus must be an HTTP status/);
  assert.match(err.message, /uses \$TOKEN but no signIn/);
});

test('the file form reads WARMER_REPLAY_FILE and names it when unreadable', () => {
  const dir = mkdtempSync(join(tmpdir(), 'replay-'));
  const file = join(dir, 'replay.json');
  writeFileSync(file, '[{"method":"GET","path":"/health/ready","expectStatus":200}]');
  assert.equal(loadReplay({ replayFile: file })?.requests[0]?.path, '/health/ready');
  assert.equal(loadReplay({}), undefined);
  assert.throws(() => loadReplay({ replayFile: join(dir, 'missing.json') }), /WARMER_REPLAY_FILE=.*cannot be read/);
});
