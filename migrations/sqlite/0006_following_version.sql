-- Moves whenever whom the user follows changes (in the same transaction as the follow), so a
-- copy of the list kept in memory can be checked against the user's row, which every signed-in
-- request reads anyway.
ALTER TABLE users ADD COLUMN following_version INTEGER NOT NULL DEFAULT 0;
