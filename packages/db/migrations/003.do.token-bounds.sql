-- Bounded token tables and member-wide revocation (issue 8, F7 and F9).
-- refresh_token: a used or signed-out token is deleted, not marked, so revoked_at goes; expired rows
-- are purged through ix_refresh_token_expires.
DELETE FROM refresh_token WHERE revoked_at IS NOT NULL;
ALTER TABLE refresh_token
  DROP COLUMN revoked_at,
  ADD KEY ix_refresh_token_expires (expires_at);

-- A member's live sign-outs are counted through this index (more than the session limit become one
-- member-wide revocation); it replaces the load's use of ix_access_token_denylist_expires.
ALTER TABLE access_token_denylist ADD KEY ix_access_token_denylist_member (member_id, expires_at);

-- Every access token of the member issued at or before revoked_before is refused (iat, in UTC).
-- Written when a member is deleted, changes password, or signs out more often than the session limit
-- within one access-token lifetime; loaded and polled by every API instance with the jti denylist,
-- and purged once every token it covers has expired. No foreign key: the member may be gone.
CREATE TABLE member_revocation (
  member_id      INT UNSIGNED NOT NULL,
  revoked_before DATETIME(3)  NOT NULL,
  PRIMARY KEY (member_id),
  KEY ix_member_revocation_revoked_before (revoked_before)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- An operator's raw DELETE FROM member revokes the member's access tokens too. (Foreign-key cascades
-- fire no triggers, but this one is on member itself.) With binary logging on, creating a trigger
-- needs SUPER or log_bin_trust_function_creators=1 for the migrating user, on MySQL and MariaDB alike.
CREATE TRIGGER tr_member_deleted_revokes_tokens AFTER DELETE ON member FOR EACH ROW
  INSERT INTO member_revocation (member_id, revoked_before) VALUES (OLD.id, UTC_TIMESTAMP(3))
  ON DUPLICATE KEY UPDATE revoked_before = UTC_TIMESTAMP(3);
