-- Notifications, one row per recipient (`notifiee_id`), newest by id. `notifier_id` is who
-- caused it (none for `pollEnded` and `app`); `note_id` the note it is about (for a renote,
-- the renote; `target_note_id` the note renoted, by which renotes are grouped); `reaction`
-- for reactions; `header`, `body`, `icon` and the app's token for `app` notifications.
CREATE TABLE notifications (
    id TEXT PRIMARY KEY,
    notifiee_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    notifier_id TEXT REFERENCES users (id) ON DELETE CASCADE,
    note_id TEXT REFERENCES notes (id) ON DELETE CASCADE,
    target_note_id TEXT,
    reaction TEXT,
    header TEXT,
    body TEXT,
    icon TEXT,
    app_token_id TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX notifications_notifiee ON notifications (notifiee_id, id);
CREATE INDEX notifications_note ON notifications (note_id);
CREATE INDEX notifications_notifier ON notifications (notifier_id);

-- The newest notification each user has read: the unread ones are those after it.
CREATE TABLE notification_reads (
    user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    read_id TEXT NOT NULL
);
