// Members: sign-up, the credentials lookup of sign-in, the public profile, and revoking every token
// of a member.
import { applyMemberRevocationLocally, DENYLIST_SQL } from '../auth/denylist.js';
import type { DbPool, TxConnection } from '../db/index.js';
import { REFRESH_TOKENS_SQL } from './refresh-tokens.js';

/** Every statement of this repository, run as they are by the routes and by test/plans.test.ts. */
export const MEMBERS_SQL = {
  insert: 'INSERT INTO member (email, password_hash, name, nickname) VALUES (?, ?, ?, ?)',
  credentials: 'SELECT id, password_hash FROM member WHERE email = ?',
  profile: 'SELECT id, name, nickname, profile_image, created_at FROM member WHERE id = ?',
} as const;

interface InsertResult {
  insertId: number;
}

interface CredentialsRow {
  id: number;
  password_hash: string;
}

interface ProfileRow {
  id: number;
  name: string;
  nickname: string;
  profile_image: string | null;
  created_at: Date;
}

export interface NewMember {
  email: string;
  passwordHash: string;
  name: string;
  nickname: string;
}

/**
 * Inside the caller's transaction (DELETE /members/:id, password change): deletes the member's refresh
 * tokens and records a member revocation, so every access token issued up to now is refused by this
 * process at once and by every other instance within its denylist poll interval.
 */
export async function revokeAllTokensOfMember(conn: TxConnection, memberId: number): Promise<void> {
  await conn.query(REFRESH_TOKENS_SQL.deleteAllOfMember, [memberId]);
  await conn.query(DENYLIST_SQL.revokeMember, [memberId]);
  applyMemberRevocationLocally(memberId, Date.now());
}

export function createMembersRepository(db: DbPool) {
  return {
    /** Throws the driver's ER_DUP_ENTRY when the email is taken; `conn` puts it in a transaction. */
    async create(member: NewMember, conn: TxConnection = db): Promise<number> {
      const result = await conn.query<InsertResult>(MEMBERS_SQL.insert, [
        member.email,
        member.passwordHash,
        member.name,
        member.nickname,
      ]);
      return result.insertId;
    },

    async findCredentials(email: string): Promise<{ id: number; passwordHash: string } | undefined> {
      const rows = await db.read<CredentialsRow[]>(MEMBERS_SQL.credentials, [email]);
      const row = rows[0];
      return row && { id: row.id, passwordHash: row.password_hash };
    },

    async findProfile(id: number) {
      const rows = await db.read<ProfileRow[]>(MEMBERS_SQL.profile, [id]);
      const row = rows[0];
      if (!row) return undefined;
      return {
        id: row.id,
        name: row.name,
        nickname: row.nickname,
        profileImage: row.profile_image,
        createdAt: row.created_at.toISOString(),
      };
    },
  };
}

export type MembersRepository = ReturnType<typeof createMembersRepository>;
