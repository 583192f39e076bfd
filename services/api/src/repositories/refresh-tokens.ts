// Refresh tokens: only their SHA-256 is stored. A token is deleted when it is used (rotation deletes
// it and issues the next in one transaction, so it can be exchanged once), signed out or expired, and
// a member keeps at most `maxPerMember` of them (the oldest go first): the table stays under
// maxPerMember x members whatever a client does.
import { createHash, randomBytes } from 'node:crypto';
import type { DbPool, TxConnection } from '../db/index.js';

/** Every statement of this repository, run as they are by the routes and by test/plans.test.ts. */
export const REFRESH_TOKENS_SQL = {
  insert: 'INSERT INTO refresh_token (member_id, token_hash, expires_at) VALUES (?, ?, ?)',
  forRotation: 'SELECT id, member_id, expires_at FROM refresh_token WHERE token_hash = ? FOR UPDATE',
  deleteById: 'DELETE FROM refresh_token WHERE id = ?',
  deleteForMember: 'DELETE FROM refresh_token WHERE token_hash = ? AND member_id = ?',
  /** Sign-out without a body: the refresh token of the access token's session (`sid`). */
  deleteSession: 'DELETE FROM refresh_token WHERE id = ? AND member_id = ?',
  /**
   * The id of the member's newest token beyond the limit (params: member id, limit), read backwards
   * along ix_refresh_token_member, which ends in the primary key.
   */
  oldestKept: 'SELECT id FROM refresh_token WHERE member_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?',
  /** Params: member id, the id from oldestKept. */
  deleteUpTo: 'DELETE FROM refresh_token WHERE member_id = ? AND id <= ?',
  deleteAllOfMember: 'DELETE FROM refresh_token WHERE member_id = ?',
  purgeExpired: 'DELETE FROM refresh_token WHERE expires_at < UTC_TIMESTAMP(3) LIMIT ?',
} as const;

const TOKEN_BYTES = 32;

interface TokenRow {
  id: number;
  member_id: number;
  expires_at: Date;
}

/** A refresh token and its row id: the session id that access tokens issued with it carry (`sid`). */
export interface Session {
  refreshToken: string;
  sessionId: number;
}

interface DeleteResult {
  affectedRows: number;
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

export function createRefreshTokensRepository(db: DbPool, ttlS: number, maxPerMember: number) {
  async function insert(conn: TxConnection, memberId: number): Promise<Session> {
    const token = randomBytes(TOKEN_BYTES).toString('base64url');
    const result = await conn.query<{ insertId: number }>(REFRESH_TOKENS_SQL.insert, [
      memberId,
      digest(token),
      new Date(Date.now() + ttlS * 1000),
    ]);
    return { refreshToken: token, sessionId: result.insertId };
  }

  return {
    /** A new token for a sign-in; the member's tokens beyond the limit, oldest first, are deleted. */
    issue(memberId: number): Promise<Session> {
      return db.transaction(async (conn) => {
        const session = await insert(conn, memberId);
        const [beyond] = await conn.query<{ id: number }[]>(REFRESH_TOKENS_SQL.oldestKept, [memberId, maxPerMember]);
        if (beyond) await conn.query(REFRESH_TOKENS_SQL.deleteUpTo, [memberId, beyond.id]);
        return session;
      });
    },

    /** The member and a new token, or undefined when the token is unknown, expired or already used. */
    rotate(token: string): Promise<({ memberId: number } & Session) | undefined> {
      return db.transaction(async (conn) => {
        const rows = await conn.query<TokenRow[]>(REFRESH_TOKENS_SQL.forRotation, [digest(token)]);
        const row = rows[0];
        if (!row) return undefined;
        // Used or expired, the row is no use to anyone any more.
        await conn.query(REFRESH_TOKENS_SQL.deleteById, [row.id]);
        if (row.expires_at.getTime() <= Date.now()) return undefined;
        return { memberId: row.member_id, ...(await insert(conn, row.member_id)) };
      });
    },

    /** Deletes the member's own token; someone else's token or an unknown one is left alone. */
    async revoke(token: string, memberId: number): Promise<boolean> {
      const result = await db.query<DeleteResult>(REFRESH_TOKENS_SQL.deleteForMember, [digest(token), memberId]);
      return result.affectedRows > 0;
    },

    /** Deletes the refresh token of the session `sessionId` if it is the member's. */
    async revokeSession(sessionId: number, memberId: number): Promise<boolean> {
      const result = await db.query<DeleteResult>(REFRESH_TOKENS_SQL.deleteSession, [sessionId, memberId]);
      return result.affectedRows > 0;
    },
  };
}

export type RefreshTokensRepository = ReturnType<typeof createRefreshTokensRepository>;
