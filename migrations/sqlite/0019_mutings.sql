-- Mutes: `muter_id` no longer sees notes by, replying to or renoting `mutee_id` (until
-- `expires_at`, if set), nor notifications they cause. Renote mutes hide only the mutee's
-- pure renotes.
CREATE TABLE mutings (
    id TEXT PRIMARY KEY,
    muter_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    mutee_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at INTEGER,
    created_at INTEGER NOT NULL,
    UNIQUE (muter_id, mutee_id)
);
CREATE INDEX mutings_muter_page ON mutings (muter_id, id);
CREATE INDEX mutings_expiry ON mutings (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE renote_mutings (
    id TEXT PRIMARY KEY,
    muter_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    mutee_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    UNIQUE (muter_id, mutee_id)
);
CREATE INDEX renote_mutings_muter_page ON renote_mutings (muter_id, id);
-- "Who blocks me" is indexed by blockings_blockee; "whom I block" by the unique pair.
