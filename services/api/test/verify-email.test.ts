import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitFor, type TestDatabase } from '@mokakbab/testkit';
import { build, closeAll, errorBody, seededDatabase, type TestApi } from './helper.js';
import { startSmtp, type TestSmtp } from './helper-smtp.js';

const MAX_ATTEMPTS = 3;

let db: TestDatabase;
let api: TestApi;
let smtp: TestSmtp;

before(async () => {
  db = await seededDatabase({ members: 1, articles: 0, participations: 0 });
  smtp = await startSmtp();
  api = await build(undefined, db, {
    env: {
      SMTP_URL: smtp.url,
      VERIFICATION_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
      MAIL_FROM: 'mokakbab <test@mokakbab.test>',
    },
  });
});

after(async () => {
  await closeAll(api, db);
  await smtp.close();
});

let signUps = 0;
async function signUp(app = api.app): Promise<string> {
  const email = `verify${++signUps}@example.com`;
  const res = await app.inject({
    method: 'POST',
    url: '/auth/sign-up',
    payload: { email, password: 'long enough password', name: 'V', nickname: 'v' },
  });
  assert.equal(res.statusCode, 201, res.body);
  return email;
}

function codeOf(raw: string): string {
  const match = /verification code is (\d{6})\b/.exec(raw);
  assert.ok(match, raw);
  return match[1]!;
}

const verify = (email: string, verificationCode: string) =>
  api.app.inject({ method: 'POST', url: '/auth/verify-email', payload: { email, verificationCode } });

const otherCode = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

async function isVerified(email: string): Promise<boolean> {
  const [row] = await db.query<{ is_verified: number }[]>('SELECT is_verified FROM member WHERE email = ?', [email]);
  return row!.is_verified === 1;
}

describe('email verification', () => {
  test('sign-up mails a code over SMTP; the code verifies the email once', async () => {
    const email = await signUp();
    const mail = await smtp.mailTo(email);
    assert.match(mail.raw, /^From: mokakbab <test@mokakbab\.test>/m);
    assert.match(mail.raw, /^Subject: Your mokakbab verification code/m);
    const code = codeOf(mail.raw);

    const wrong = await verify(email, otherCode(code));
    assert.equal(wrong.statusCode, 400);
    assert.equal(errorBody(wrong).code, 'WRONG_CODE');
    assert.equal(await isVerified(email), false);

    const ok = await verify(email, code);
    assert.equal(ok.statusCode, 200);
    assert.deepEqual(ok.json(), { email, isEmailVerified: true });
    assert.equal(await isVerified(email), true);

    const again = await verify(email, code);
    assert.equal(again.statusCode, 409);
    assert.equal(errorBody(again).code, 'ALREADY_VERIFIED');
  });

  test('after the allowed wrong attempts even the right code is refused', async () => {
    const email = await signUp();
    const code = codeOf((await smtp.mailTo(email)).raw);
    for (let i = 0; i < MAX_ATTEMPTS; i++)
      assert.equal(errorBody(await verify(email, otherCode(code))).code, 'WRONG_CODE');
    const locked = await verify(email, code);
    assert.equal(locked.statusCode, 400);
    assert.equal(errorBody(locked).code, 'TOO_MANY_ATTEMPTS');
    assert.equal(await isVerified(email), false);
  });

  test('concurrent wrong guesses are each counted', async () => {
    const email = await signUp();
    const code = codeOf((await smtp.mailTo(email)).raw);
    const guesses = await Promise.all(Array.from({ length: 10 }, () => verify(email, otherCode(code))));
    assert.equal(guesses.filter((r) => errorBody(r).code === 'WRONG_CODE').length, MAX_ATTEMPTS);
    const [row] = await db.query<{ attempts: number }[]>(
      'SELECT v.attempts FROM verification_code v JOIN member m ON m.id = v.member_id WHERE m.email = ?',
      [email],
    );
    assert.equal(row!.attempts, MAX_ATTEMPTS);
  });

  test('an expired code is refused', async () => {
    const email = await signUp();
    const code = codeOf((await smtp.mailTo(email)).raw);
    await db.query(
      'UPDATE verification_code v JOIN member m ON m.id = v.member_id SET v.expires_at = NOW(3) - INTERVAL 1 SECOND WHERE m.email = ?',
      [email],
    );
    assert.equal(errorBody(await verify(email, code)).code, 'CODE_EXPIRED');
  });

  test('an unknown email is a wrong code; malformed bodies are 400 naming the field', async () => {
    assert.equal(errorBody(await verify('nobody@example.com', '123456')).code, 'WRONG_CODE');
    for (const [payload, field] of [
      [{ email: 'a@example.com', verificationCode: '12345' }, 'body/verificationCode'],
      [{ email: 'a@example.com', verificationCode: '12345a' }, 'body/verificationCode'],
      [{ email: 'nope', verificationCode: '123456' }, 'body/email'],
    ] as const) {
      const res = await api.app.inject({ method: 'POST', url: '/auth/verify-email', payload });
      assert.equal(res.statusCode, 400);
      assert.match(errorBody(res).message, new RegExp(`^${field}`));
    }
  });
});

test('without SMTP_URL the code is written to the log and still verifies', async (t) => {
  const lines: string[] = [];
  const dev = await build(t, db, { env: { LOG_LEVEL: 'info' }, logLines: lines });
  const email = await signUp(dev.app);
  await waitFor('the logged code', () => lines.some((l) => l.includes(email)));
  const entry = JSON.parse(lines.find((l) => l.includes(email))!) as { verificationCode: string };
  const res = await dev.app.inject({
    method: 'POST',
    url: '/auth/verify-email',
    payload: { email, verificationCode: entry.verificationCode },
  });
  assert.equal(res.statusCode, 200);
});
