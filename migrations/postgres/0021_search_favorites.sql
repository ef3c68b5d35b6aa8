-- Favourites, and the index notes are searched with.
CREATE TABLE note_favorites (
    id TEXT COLLATE "C" PRIMARY KEY,
    user_id TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    note_id TEXT COLLATE "C" NOT NULL REFERENCES notes (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    UNIQUE (user_id, note_id)
);
CREATE INDEX note_favorites_user_page ON note_favorites (user_id, id);
CREATE INDEX note_favorites_note ON note_favorites (note_id);

-- Search matches substrings of a note's text and CW, as Misskey's default search does, so
-- that Japanese and Chinese (written without spaces between words) are found too: a trigram
-- index (pg_trgm, shipped with PostgreSQL and trusted, so the database's owner may enable
-- it) over the text and CW serves `ILIKE '%term%'`.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX notes_search ON notes USING gin ((COALESCE(text, '') || ' ' || COALESCE(cw, '')) gin_trgm_ops);
