-- Whom a note mentions and whom a specified note is for, on the note itself (as Misskey keeps
-- `mentions` and `visibleUserIds`), so showing a note needs no further query. The tables
-- `note_mentions` and `note_visible_users` stay: the visibility rule looks users up in them.
ALTER TABLE notes ADD COLUMN mentions TEXT NOT NULL DEFAULT '[]';
ALTER TABLE notes ADD COLUMN visible_user_ids TEXT NOT NULL DEFAULT '[]';
UPDATE notes SET mentions = m.ids FROM (
    SELECT note_id, CAST(json_agg(user_id) AS TEXT) AS ids FROM note_mentions GROUP BY note_id
) m WHERE m.note_id = notes.id;
UPDATE notes SET visible_user_ids = v.ids FROM (
    SELECT note_id, CAST(json_agg(user_id) AS TEXT) AS ids FROM note_visible_users GROUP BY note_id
) v WHERE v.note_id = notes.id;
