ALTER TABLE participation ADD KEY ix_participation_member (member_id), DROP KEY ix_participation_member_status;
ALTER TABLE verification_code DROP COLUMN attempts;
