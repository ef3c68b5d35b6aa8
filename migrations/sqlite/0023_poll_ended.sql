-- Whether the people of an ended poll have been told (`pollEnded`): a sweep claims each
-- ended poll once, on whichever node. Polls that ended before this are not announced late.
ALTER TABLE polls ADD COLUMN ended_notified BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE polls SET ended_notified = TRUE
    WHERE expires_at IS NOT NULL AND expires_at <= CAST(strftime('%s', 'now') AS INTEGER) * 1000;
CREATE INDEX polls_to_announce ON polls (expires_at)
    WHERE expires_at IS NOT NULL AND NOT ended_notified;
