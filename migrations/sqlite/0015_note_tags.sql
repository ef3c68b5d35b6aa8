-- Which notes carry which hashtag (normalised as in notes.tags), so the notes of a tag are
-- read newest first from an index instead of by scanning every note's tag list.
CREATE TABLE note_tags (
    tag TEXT NOT NULL,
    note_id TEXT NOT NULL REFERENCES notes (id) ON DELETE CASCADE,
    PRIMARY KEY (tag, note_id)
);
CREATE INDEX note_tags_note ON note_tags (note_id);
INSERT OR IGNORE INTO note_tags (tag, note_id)
    SELECT DISTINCT j.value, n.id FROM notes n, json_each(n.tags) AS j;
