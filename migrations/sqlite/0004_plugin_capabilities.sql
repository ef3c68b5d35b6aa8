-- What plugins say about themselves, what the admin grants them, which timelines a ranker
-- ranks, and the key-value store plugins keep state in.
ALTER TABLE plugins ADD COLUMN manifest TEXT;
-- JSON array of granted capabilities: "kv", "raw-activity", "http:HOST[:PORT]".
ALTER TABLE plugins ADD COLUMN grants TEXT NOT NULL DEFAULT '[]';
-- JSON array of timeline names ("local", "global", …) a ranking plugin ranks.
ALTER TABLE plugins ADD COLUMN timelines TEXT NOT NULL DEFAULT '[]';

CREATE TABLE plugin_kv (
    plugin TEXT NOT NULL,
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    value BLOB NOT NULL,
    expires_at INTEGER,
    PRIMARY KEY (plugin, bucket, key)
);
CREATE INDEX plugin_kv_expiry ON plugin_kv (plugin, expires_at) WHERE expires_at IS NOT NULL;
