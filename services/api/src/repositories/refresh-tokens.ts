// Refresh tokens: only their SHA-256 is stored; rotation revokes the presented token and issues a
// new one in the same transaction, so a token can be exchanged once.
import { createHash, randomBytes } from 'node:crypto';
import type { DbPool, TxConnection } from '../db/index.js';

const INSERT_TOKEN = 'INSERT INTO refresh_token (member_id, token_hash, expires_at) VALUES (?, ?, ?)';
const SELECT_FOR_ROTATION =
  'SELECT id, member_id, expires_at, revoked_at FROM refresh_token WHERE token_hash = ? FOR UPDATE';
const REVOKE_BY_ID = 'UPDATE refresh_token SET revoked_at = CURRENT_TIMESTAMP(3) WHERE id = ?';
const REVOKE_FOR_MEMBER =
  'UPDATE refresh_token SET revoked_at = CURRENT_TIMESTAMP(3) WHERE token_hash = ? AND member_id = ? AND revoked_at IS NULL';
const REVOKE_SESSION =
  'UPDATE refresh_token SET revoked_at = CURRENT_TIMESTAMP(3) WHERE id = ? AND member_id = ? AND revoked_at IS NULL';

const TOKEN_BYTES = 32;

interface TokenRow {
  id: number;
  member_id: number;
  expires_at: Date;
  revoked_at: Date | null;
}

export interface Session {
  refreshToken: string;
  sessionId: number;
}

interface UpdateResult {
  affectedRows: number;
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

export function createRefreshTokensRepository(db: DbPool, ttlS: number) {
  /** The token and its row id: the session id that access tokens issued with it carry (`sid`). */
  async function insert(conn: Pick<TxConnection, 'query'>, memberId: number): Promise<Session> {
    const token = randomBytes(TOKEN_BYTES).toString('base64url');
    const result = await conn.query<{ insertId: number }>(INSERT_TOKEN, [
      memberId,
      digest(token),
      new Date(Date.now() + ttlS * 1000),
    ]);
    return { refreshToken: token, sessionId: result.insertId };
  }

  return {
    issue: (memberId: number): Promise<Session> => insert(db, memberId),

    /** The member and a new token, or undefined when the token is unknown, expired or already used. */
    rotate(token: string): Promise<({ memberId: number } & Session) | undefined> {
      return db.transaction(async (conn) => {
        const rows = await conn.query<TokenRow[]>(SELECT_FOR_ROTATION, [digest(token)]);
        const row = rows[0];
        if (!row || row.revoked_at !== null || row.expires_at.getTime() <= Date.now()) return undefined;
        await conn.query(REVOKE_BY_ID, [row.id]);
        return { memberId: row.member_id, ...(await insert(conn, row.member_id)) };
      });
    },

    /** Revokes the member's own token; someone else's token or an unknown one is left alone. */
    async revoke(token: string, memberId: number): Promise<boolean> {
      const result = await db.query<UpdateResult>(REVOKE_FOR_MEMBER, [digest(token), memberId]);
      return result.affectedRows > 0;
    },

    /** Revokes the refresh token of the session `sessionId` if it is the member's. */
    async revokeSession(sessionId: number, memberId: number): Promise<boolean> {
      const result = await db.query<UpdateResult>(REVOKE_SESSION, [sessionId, memberId]);
      return result.affectedRows > 0;
    },
  };
}

export type RefreshTokensRepository = ReturnType<typeof createRefreshTokensRepository>;
