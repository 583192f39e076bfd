-- The mokakbab schema: members, their tokens and codes, the places and categories of meetups,
-- articles (meetups), likes, participations and blocks. InnoDB, utf8mb4 throughout.

CREATE TABLE member (
  id            INT UNSIGNED NOT NULL AUTO_INCREMENT,
  email         VARCHAR(255) NOT NULL,
  password_hash VARCHAR(255) NOT NULL,
  name          VARCHAR(50)  NOT NULL,
  nickname      VARCHAR(50)  NOT NULL,
  profile_image VARCHAR(255) NULL,
  role          ENUM('USER', 'ADMIN') NOT NULL DEFAULT 'USER',
  is_verified   TINYINT(1)   NOT NULL DEFAULT 0,
  created_at    DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at    DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  PRIMARY KEY (id),
  UNIQUE KEY uq_member_email (email)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE refresh_token (
  id         BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  member_id  INT UNSIGNED NOT NULL,
  -- SHA-256 of the token: a leaked table does not leak usable tokens.
  token_hash BINARY(32)   NOT NULL,
  expires_at DATETIME(3)  NOT NULL,
  revoked_at DATETIME(3)  NULL,
  created_at DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (id),
  UNIQUE KEY uq_refresh_token_hash (token_hash),
  KEY ix_refresh_token_member (member_id),
  CONSTRAINT fk_refresh_token_member FOREIGN KEY (member_id) REFERENCES member (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE verification_code (
  id         BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  member_id  INT UNSIGNED NOT NULL,
  code       CHAR(6)      NOT NULL,
  expires_at DATETIME(3)  NOT NULL,
  used_at    DATETIME(3)  NULL,
  created_at DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (id),
  KEY ix_verification_code_member (member_id),
  CONSTRAINT fk_verification_code_member FOREIGN KEY (member_id) REFERENCES member (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE category (
  id   INT UNSIGNED NOT NULL AUTO_INCREMENT,
  name VARCHAR(50)  NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_category_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE region (
  id   INT UNSIGNED NOT NULL AUTO_INCREMENT,
  name VARCHAR(50)  NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_region_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE district (
  id        INT UNSIGNED NOT NULL AUTO_INCREMENT,
  region_id INT UNSIGNED NOT NULL,
  name      VARCHAR(50)  NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_district_region_name (region_id, name),
  CONSTRAINT fk_district_region FOREIGN KEY (region_id) REFERENCES region (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE article (
  id           INT UNSIGNED NOT NULL AUTO_INCREMENT,
  member_id    INT UNSIGNED NOT NULL,
  category_id  INT UNSIGNED NOT NULL,
  region_id    INT UNSIGNED NOT NULL,
  district_id  INT UNSIGNED NOT NULL,
  title        VARCHAR(100) NOT NULL,
  content      TEXT         NOT NULL,
  start_time   DATETIME(3)  NOT NULL,
  end_time     DATETIME(3)  NOT NULL,
  article_image VARCHAR(255) NULL,
  like_count   INT UNSIGNED NOT NULL DEFAULT 0,
  created_at   DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at   DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  PRIMARY KEY (id),
  KEY ix_article_member (member_id),
  KEY ix_article_category (category_id),
  KEY ix_article_region (region_id),
  KEY ix_article_district (district_id),
  CONSTRAINT fk_article_member FOREIGN KEY (member_id) REFERENCES member (id),
  CONSTRAINT fk_article_category FOREIGN KEY (category_id) REFERENCES category (id),
  CONSTRAINT fk_article_region FOREIGN KEY (region_id) REFERENCES region (id),
  CONSTRAINT fk_article_district FOREIGN KEY (district_id) REFERENCES district (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE article_like (
  member_id  INT UNSIGNED NOT NULL,
  article_id INT UNSIGNED NOT NULL,
  created_at DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (member_id, article_id),
  KEY ix_article_like_article (article_id),
  CONSTRAINT fk_article_like_member FOREIGN KEY (member_id) REFERENCES member (id) ON DELETE CASCADE,
  CONSTRAINT fk_article_like_article FOREIGN KEY (article_id) REFERENCES article (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE participation (
  id         INT UNSIGNED NOT NULL AUTO_INCREMENT,
  article_id INT UNSIGNED NOT NULL,
  member_id  INT UNSIGNED NOT NULL,
  status     ENUM('ACTIVE', 'CANCELLED') NOT NULL DEFAULT 'ACTIVE',
  created_at DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  PRIMARY KEY (id),
  UNIQUE KEY uq_participation_article_member (article_id, member_id),
  -- Serves "ACTIVE participants of an article" (counts and the paged list) from the index alone.
  KEY ix_participation_status_article (status, article_id),
  KEY ix_participation_member (member_id),
  CONSTRAINT fk_participation_article FOREIGN KEY (article_id) REFERENCES article (id) ON DELETE CASCADE,
  CONSTRAINT fk_participation_member FOREIGN KEY (member_id) REFERENCES member (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE black_list (
  id         INT UNSIGNED NOT NULL AUTO_INCREMENT,
  blacker_id INT UNSIGNED NOT NULL,
  blacked_id INT UNSIGNED NOT NULL,
  created_at DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (id),
  UNIQUE KEY uq_black_list_pair (blacker_id, blacked_id),
  KEY ix_black_list_blacked (blacked_id),
  CONSTRAINT fk_black_list_blacker FOREIGN KEY (blacker_id) REFERENCES member (id) ON DELETE CASCADE,
  CONSTRAINT fk_black_list_blacked FOREIGN KEY (blacked_id) REFERENCES member (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
