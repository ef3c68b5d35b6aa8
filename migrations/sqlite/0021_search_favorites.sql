-- Favourites, and the index notes are searched with.
CREATE TABLE note_favorites (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    note_id TEXT NOT NULL REFERENCES notes (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    UNIQUE (user_id, note_id)
);
CREATE INDEX note_favorites_user_page ON note_favorites (user_id, id);
CREATE INDEX note_favorites_note ON note_favorites (note_id);

-- Search matches substrings of a note's text and CW, as Misskey's default search does, so
-- that Japanese and Chinese (written without spaces between words) are found too: FTS5's
-- trigram tokenizer indexes every three characters. The index keeps no copy of the text
-- (contentless); each note has a stable integer id in it (notes' own rowids may change on
-- VACUUM, since their key is text), kept in step with `notes` by the triggers below.
CREATE TABLE note_search_ids (
    search_id INTEGER PRIMARY KEY,
    note_id TEXT NOT NULL UNIQUE
);
CREATE VIRTUAL TABLE notes_fts USING fts5 (
    text, cw, content = '', contentless_delete = 1, tokenize = 'trigram'
);
INSERT INTO note_search_ids (note_id) SELECT id FROM notes ORDER BY id;
INSERT INTO notes_fts (rowid, text, cw)
    SELECT s.search_id, n.text, n.cw FROM note_search_ids s JOIN notes n ON n.id = s.note_id;
CREATE TRIGGER notes_search_insert AFTER INSERT ON notes BEGIN
    INSERT INTO note_search_ids (note_id) VALUES (new.id);
    INSERT INTO notes_fts (rowid, text, cw)
        VALUES ((SELECT search_id FROM note_search_ids WHERE note_id = new.id), new.text, new.cw);
END;
CREATE TRIGGER notes_search_delete AFTER DELETE ON notes BEGIN
    DELETE FROM notes_fts
        WHERE rowid = (SELECT search_id FROM note_search_ids WHERE note_id = old.id);
    DELETE FROM note_search_ids WHERE note_id = old.id;
END;
CREATE TRIGGER notes_search_update AFTER UPDATE OF text, cw ON notes BEGIN
    DELETE FROM notes_fts
        WHERE rowid = (SELECT search_id FROM note_search_ids WHERE note_id = new.id);
    INSERT INTO notes_fts (rowid, text, cw)
        VALUES ((SELECT search_id FROM note_search_ids WHERE note_id = new.id), new.text, new.cw);
END;
