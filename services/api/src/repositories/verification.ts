// Email verification codes: six digits, expiring, single use, with a bounded number of wrong tries.
// The member row is locked while a code is checked, so concurrent guesses are counted one by one.
import { randomInt, timingSafeEqual } from 'node:crypto';
import { isDuplicateEntry, type DbPool } from '../db/index.js';
import type { MembersRepository, NewMember } from './members.js';

const INSERT_CODE = 'INSERT INTO verification_code (member_id, code, expires_at) VALUES (?, ?, ?)';
const LOCK_MEMBER = 'SELECT id, is_verified FROM member WHERE email = ? FOR UPDATE';
// The member's newest code: a backward ref range of ix_verification_code_member (member_id, id).
const SELECT_LATEST_CODE = `
  SELECT id, code, attempts, expires_at, used_at FROM verification_code
  WHERE member_id = ? ORDER BY id DESC LIMIT 1`;
const COUNT_ATTEMPT = 'UPDATE verification_code SET attempts = attempts + 1 WHERE id = ?';
const USE_CODE = 'UPDATE verification_code SET used_at = CURRENT_TIMESTAMP(3) WHERE id = ?';
const VERIFY_MEMBER = 'UPDATE member SET is_verified = 1 WHERE id = ?';

/** Every statement of this repository, for the plan test. */
export const VERIFICATION_SQL = {
  insertCode: INSERT_CODE,
  lockMember: LOCK_MEMBER,
  latestCode: SELECT_LATEST_CODE,
  countAttempt: COUNT_ATTEMPT,
  useCode: USE_CODE,
  verifyMember: VERIFY_MEMBER,
} as const;

const CODE_DIGITS = 6;

interface CodeRow {
  id: number;
  code: string;
  attempts: number;
  expires_at: Date;
  used_at: Date | null;
}

export type VerifyResult = 'VERIFIED' | 'ALREADY_VERIFIED' | 'WRONG_CODE' | 'CODE_EXPIRED' | 'TOO_MANY_ATTEMPTS';

export interface VerificationOptions {
  codeTtlS: number;
  maxAttempts: number;
}

function newCode(): string {
  return String(randomInt(0, 10 ** CODE_DIGITS)).padStart(CODE_DIGITS, '0');
}

function sameCode(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

export function createVerificationRepository(db: DbPool, members: MembersRepository, opts: VerificationOptions) {
  return {
    /** Creates the member and their first code in one transaction; 'EMAIL_TAKEN' when the email is. */
    async signUp(member: NewMember): Promise<{ id: number; code: string } | 'EMAIL_TAKEN'> {
      try {
        return await db.transaction(async (conn) => {
          const id = await members.create(member, conn);
          const code = newCode();
          await conn.query(INSERT_CODE, [id, code, new Date(Date.now() + opts.codeTtlS * 1000)]);
          return { id, code };
        });
      } catch (err) {
        if (isDuplicateEntry(err)) return 'EMAIL_TAKEN';
        throw err;
      }
    },

    /** Checks `code` against the member's newest one; an unknown email is a wrong code. */
    verify(email: string, code: string): Promise<VerifyResult> {
      return db.transaction(async (conn) => {
        const [member] = await conn.query<{ id: number; is_verified: number }[]>(LOCK_MEMBER, [email]);
        if (!member) return 'WRONG_CODE';
        if (member.is_verified) return 'ALREADY_VERIFIED';
        const [latest] = await conn.query<CodeRow[]>(SELECT_LATEST_CODE, [member.id]);
        if (!latest || latest.used_at !== null) return 'WRONG_CODE';
        if (latest.attempts >= opts.maxAttempts) return 'TOO_MANY_ATTEMPTS';
        if (latest.expires_at.getTime() <= Date.now()) return 'CODE_EXPIRED';
        if (!sameCode(latest.code, code)) {
          await conn.query(COUNT_ATTEMPT, [latest.id]);
          return 'WRONG_CODE';
        }
        await conn.query(USE_CODE, [latest.id]);
        await conn.query(VERIFY_MEMBER, [member.id]);
        return 'VERIFIED';
      });
    },
  };
}

export type VerificationRepository = ReturnType<typeof createVerificationRepository>;
