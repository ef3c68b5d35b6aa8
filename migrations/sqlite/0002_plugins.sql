-- Installed plugins and what moderation plugins flagged.
CREATE TABLE plugins (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    version TEXT NOT NULL,
    wasm BLOB NOT NULL,
    config TEXT,
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    -- Order in the chain of plugins of the same kind, lowest first.
    position INTEGER NOT NULL DEFAULT 0,
    -- 'fail-open' (accept and flag for review) or 'fail-closed' (reject).
    failure_policy TEXT NOT NULL DEFAULT 'fail-open',
    updated_at INTEGER NOT NULL
);

CREATE TABLE moderation_flags (
    id TEXT PRIMARY KEY,
    note_id TEXT NOT NULL REFERENCES notes (id) ON DELETE CASCADE,
    plugin TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    resolved_at INTEGER
);
CREATE INDEX moderation_flags_open ON moderation_flags (id) WHERE resolved_at IS NULL;
