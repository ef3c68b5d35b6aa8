-- Which notes carry which hashtag (normalised as in notes.tags), so the notes of a tag are
-- read newest first from an index instead of by scanning every note's tag list.
CREATE TABLE note_tags (
    tag TEXT NOT NULL,
    note_id TEXT COLLATE "C" NOT NULL REFERENCES notes (id) ON DELETE CASCADE,
    PRIMARY KEY (tag, note_id)
);
CREATE INDEX note_tags_note ON note_tags (note_id);
INSERT INTO note_tags (tag, note_id)
    SELECT DISTINCT t.tag, n.id FROM notes n, jsonb_array_elements_text(n.tags::jsonb) AS t(tag)
    ON CONFLICT DO NOTHING;
