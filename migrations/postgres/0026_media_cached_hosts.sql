-- A fourth list: servers whose users' files are fetched and kept here (`media-cached`).
ALTER TABLE federation_policy DROP CONSTRAINT federation_policy_kind_check;
ALTER TABLE federation_policy ADD CONSTRAINT federation_policy_kind_check
    CHECK (kind IN ('blocked', 'silenced', 'media-silenced', 'media-cached'));
