import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { hashPassword, verifyPassword } from '../src/index.js';

describe('password hashes', () => {
  test('carry their cost and verify in constant form', async () => {
    const hash = await hashPassword('s3cret', 1024);
    assert.match(hash, /^scrypt\$1024\$8\$1\$/);
    assert.equal(await verifyPassword('s3cret', hash), true);
    assert.equal(await verifyPassword('s3cret!', hash), false);
    assert.equal(await verifyPassword('s3cret', 'not-a-hash'), false);
    await assert.rejects(hashPassword('x', 1000), RangeError);
  });
});
