-- The admin's policy for other servers, as Misskey's admin sets it: blocked hosts (nothing
-- is accepted from them or sent to them), silenced hosts (their notes are not public here),
-- media-silenced hosts (their files are not shown). An entry covers its subdomains too.
CREATE TABLE federation_policy (
    kind TEXT NOT NULL CHECK (kind IN ('blocked', 'silenced', 'media-silenced')),
    host TEXT NOT NULL,
    PRIMARY KEY (kind, host)
);
