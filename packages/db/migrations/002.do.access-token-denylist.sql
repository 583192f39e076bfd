-- Access tokens revoked before their exp (sign-out). Every API instance keeps an in-memory copy,
-- refreshed by polling rows newer than the last it saw, so a revocation reaches the whole fleet.
CREATE TABLE access_token_denylist (
  jti        CHAR(36)     NOT NULL,
  member_id  INT UNSIGNED NOT NULL,
  expires_at DATETIME(3)  NOT NULL,
  created_at DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (jti),
  KEY ix_access_token_denylist_created (created_at),
  KEY ix_access_token_denylist_expires (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
