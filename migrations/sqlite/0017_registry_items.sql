-- Misskey's registry (`i/registry/*`): what clients keep per account, by scope path and key.
-- `domain` is '' for the account's own token (Misskey's null domain) and the access token's
-- id for an app, so each app has a registry of its own. `scope` is the path joined by '.'
-- (its parts are [A-Za-z0-9_]+, so the join is unambiguous); `value` is JSON text.
CREATE TABLE registry_items (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    domain TEXT NOT NULL,
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (user_id, domain, scope, key)
);
