// Members: sign-up, the credentials lookup of sign-in, and the public profile.
import type { DbPool, TxConnection } from '../db/index.js';

const INSERT_MEMBER = 'INSERT INTO member (email, password_hash, name, nickname) VALUES (?, ?, ?, ?)';
const SELECT_CREDENTIALS = 'SELECT id, password_hash FROM member WHERE email = ?';
const SELECT_PROFILE = 'SELECT id, name, nickname, profile_image, created_at FROM member WHERE id = ?';

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

export function createMembersRepository(db: DbPool) {
  return {
    /** Throws the driver's ER_DUP_ENTRY when the email is taken; `conn` puts it in a transaction. */
    async create(member: NewMember, conn: TxConnection = db): Promise<number> {
      const result = await conn.query<InsertResult>(INSERT_MEMBER, [
        member.email,
        member.passwordHash,
        member.name,
        member.nickname,
      ]);
      return result.insertId;
    },

    async findCredentials(email: string): Promise<{ id: number; passwordHash: string } | undefined> {
      const rows = await db.read<CredentialsRow[]>(SELECT_CREDENTIALS, [email]);
      const row = rows[0];
      return row && { id: row.id, passwordHash: row.password_hash };
    },

    async findProfile(id: number) {
      const rows = await db.read<ProfileRow[]>(SELECT_PROFILE, [id]);
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
