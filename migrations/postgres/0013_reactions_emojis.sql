-- Reactions and custom emoji.

-- What a note's author lets others react with (Misskey's `reactionAcceptance`; NULL accepts
-- everything), how many reactions it has (so notes without any skip the tally query), and
-- the custom emoji names its text and CW use (resolved on the author's host when shown).
ALTER TABLE notes ADD COLUMN reaction_acceptance TEXT;
ALTER TABLE notes ADD COLUMN reaction_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE notes ADD COLUMN emojis TEXT NOT NULL DEFAULT '[]';

-- One reaction per user per note, as Misskey has it: a unicode emoji, `:name:` for a local
-- custom emoji, `:name@host:` for one of the reacting user's server.
CREATE TABLE note_reactions (
    id TEXT COLLATE "C" PRIMARY KEY,
    note_id TEXT COLLATE "C" NOT NULL REFERENCES notes (id) ON DELETE CASCADE,
    user_id TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    reaction TEXT NOT NULL,
    -- The Like activity's id, for a reaction from another server (its Undo names it).
    uri TEXT,
    created_at BIGINT NOT NULL,
    UNIQUE (note_id, user_id)
);
-- Covers the per-note tally (counts per reaction, and which one is the viewer's).
CREATE INDEX note_reactions_tally ON note_reactions (note_id, reaction, user_id);
CREATE INDEX note_reactions_user ON note_reactions (user_id, id);

-- Custom emoji: local ones (host NULL) with their image kept here, remote ones (learnt from
-- the `Emoji` tags of what other servers send) with the URL their server serves them at.
CREATE TABLE emojis (
    id TEXT COLLATE "C" PRIMARY KEY,
    name TEXT NOT NULL,
    host TEXT,
    category TEXT,
    aliases TEXT NOT NULL DEFAULT '[]',
    license TEXT,
    is_sensitive BOOLEAN NOT NULL DEFAULT FALSE,
    local_only BOOLEAN NOT NULL DEFAULT FALSE,
    media_type TEXT,
    image_id TEXT COLLATE "C",
    remote_url TEXT,
    uri TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT
);
CREATE UNIQUE INDEX emojis_local_name ON emojis (name) WHERE host IS NULL;
CREATE UNIQUE INDEX emojis_remote_name ON emojis (name, host) WHERE host IS NOT NULL;

-- The images of local emoji. They are small and few, and every node behind one public URL
-- must serve them, so they live in the database; a new id per upload makes their URLs
-- immutable (cached for good by browsers and other servers).
CREATE TABLE emoji_images (
    id TEXT COLLATE "C" PRIMARY KEY,
    media_type TEXT NOT NULL,
    data BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);
