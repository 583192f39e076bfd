ALTER TABLE verification_code DROP COLUMN attempts;
