-- Email verification: wrong guesses are counted per code, so a 6-digit code cannot be brute-forced.
ALTER TABLE verification_code ADD COLUMN attempts TINYINT UNSIGNED NOT NULL DEFAULT 0 AFTER code;
