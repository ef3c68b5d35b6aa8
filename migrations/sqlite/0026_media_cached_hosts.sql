-- A fourth list: servers whose users' files are fetched and kept here (`media-cached`).
-- SQLite cannot change a CHECK in place: the table is made again.
CREATE TABLE federation_policy_new (
    kind TEXT NOT NULL CHECK (kind IN ('blocked', 'silenced', 'media-silenced', 'media-cached')),
    host TEXT NOT NULL,
    PRIMARY KEY (kind, host)
);
INSERT INTO federation_policy_new (kind, host) SELECT kind, host FROM federation_policy;
DROP TABLE federation_policy;
ALTER TABLE federation_policy_new RENAME TO federation_policy;
