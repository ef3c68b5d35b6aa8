-- Achievements a user unlocked (Misskey's `achievements` on the account; clients claim
-- most of them), and the notification that tells of one.
CREATE TABLE user_achievements (
    user_id TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    unlocked_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, name)
);
ALTER TABLE notifications ADD COLUMN achievement TEXT;
