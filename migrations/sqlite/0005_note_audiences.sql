-- Whom a note mentions and whom a specified note is for, on the note itself (as Misskey keeps
-- `mentions` and `visibleUserIds`), so showing a note needs no further query. The tables
-- `note_mentions` and `note_visible_users` stay: the visibility rule looks users up in them.
ALTER TABLE notes ADD COLUMN mentions TEXT NOT NULL DEFAULT '[]';
ALTER TABLE notes ADD COLUMN visible_user_ids TEXT NOT NULL DEFAULT '[]';
UPDATE notes SET mentions = (SELECT json_group_array(m.user_id) FROM note_mentions m WHERE m.note_id = notes.id)
    WHERE id IN (SELECT note_id FROM note_mentions);
UPDATE notes SET visible_user_ids = (SELECT json_group_array(v.user_id) FROM note_visible_users v WHERE v.note_id = notes.id)
    WHERE id IN (SELECT note_id FROM note_visible_users);
