-- Misskey's registry (`i/registry/*`): what clients keep per account, by scope path and key.
-- `domain` is '' for the account's own token (Misskey's null domain) and the access token's
-- id for an app, so each app has a registry of its own. `scope` is the path joined by '.'
-- (its parts are [A-Za-z0-9_]+, so the join is unambiguous); `value` is JSON text.
CREATE TABLE registry_items (
    id TEXT COLLATE "C" PRIMARY KEY,
    user_id TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    domain TEXT COLLATE "C" NOT NULL,
    scope TEXT COLLATE "C" NOT NULL,
    key TEXT COLLATE "C" NOT NULL,
    value TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (user_id, domain, scope, key)
);
