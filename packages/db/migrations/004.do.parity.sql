-- Email verification: wrong guesses are counted per code, so a 6-digit code cannot be brute-forced.
ALTER TABLE verification_code ADD COLUMN attempts TINYINT UNSIGNED NOT NULL DEFAULT 0 AFTER code;

-- "My ACTIVE participations, newest first" reads one range of this index in order and stops at the
-- LIMIT; it also serves fk_participation_member, which ix_participation_member served alone.
ALTER TABLE participation ADD KEY ix_participation_member_status (member_id, status), DROP KEY ix_participation_member;
