-- Words a user mutes: `soft` ones their clients collapse, `hard` ones the server hides from
-- every listing and stream. Each a JSON array of Misskey's entries: an array of keywords
-- (all must appear) or a "/regular expression/flags" string.
CREATE TABLE user_word_mutes (
    user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    soft TEXT NOT NULL DEFAULT '[]',
    hard TEXT NOT NULL DEFAULT '[]'
);
