DROP TRIGGER IF EXISTS tr_member_deleted_revokes_tokens;
DROP TABLE IF EXISTS member_revocation;
ALTER TABLE access_token_denylist DROP KEY ix_access_token_denylist_member;
ALTER TABLE refresh_token
  DROP KEY ix_refresh_token_expires,
  ADD COLUMN revoked_at DATETIME(3) NULL AFTER expires_at;
