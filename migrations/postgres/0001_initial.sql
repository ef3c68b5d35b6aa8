-- Tsudoi schema, PostgreSQL flavour. Times are Unix milliseconds; ids are aidx strings.
-- Id columns use the "C" collation so that aidx ids compare bytewise, as they do in SQLite.
CREATE TABLE users (
    id TEXT COLLATE "C" PRIMARY KEY,
    username TEXT NOT NULL,
    username_lower TEXT NOT NULL,
    host TEXT,
    name TEXT,
    description TEXT,
    location TEXT,
    birthday TEXT,
    lang TEXT,
    fields TEXT NOT NULL DEFAULT '[]',
    is_locked BOOLEAN NOT NULL DEFAULT FALSE,
    is_bot BOOLEAN NOT NULL DEFAULT FALSE,
    is_cat BOOLEAN NOT NULL DEFAULT FALSE,
    is_admin BOOLEAN NOT NULL DEFAULT FALSE,
    is_suspended BOOLEAN NOT NULL DEFAULT FALSE,
    followers_count BIGINT NOT NULL DEFAULT 0,
    following_count BIGINT NOT NULL DEFAULT 0,
    notes_count BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT,
    last_posted_at BIGINT
);
CREATE UNIQUE INDEX users_local_username ON users (username_lower) WHERE host IS NULL;
CREATE UNIQUE INDEX users_remote_username ON users (username_lower, host) WHERE host IS NOT NULL;

CREATE TABLE user_credentials (
    user_id TEXT COLLATE "C" PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    password_hash TEXT NOT NULL,
    token TEXT NOT NULL UNIQUE
);

CREATE TABLE invitation_codes (
    code TEXT PRIMARY KEY,
    created_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    used_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    used_at BIGINT
);

CREATE TABLE apps (
    id TEXT COLLATE "C" PRIMARY KEY,
    user_id TEXT COLLATE "C" REFERENCES users (id) ON DELETE SET NULL,
    secret TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    permission TEXT NOT NULL DEFAULT '[]',
    callback_url TEXT,
    created_at BIGINT NOT NULL
);

CREATE TABLE auth_sessions (
    id TEXT COLLATE "C" PRIMARY KEY,
    token TEXT NOT NULL UNIQUE,
    app_id TEXT COLLATE "C" NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    user_id TEXT COLLATE "C" REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL
);

CREATE TABLE miauth_sessions (
    session TEXT PRIMARY KEY,
    name TEXT,
    icon_url TEXT,
    callback_url TEXT,
    permission TEXT NOT NULL DEFAULT '[]',
    user_id TEXT COLLATE "C" REFERENCES users (id) ON DELETE CASCADE,
    token TEXT,
    created_at BIGINT NOT NULL
);

CREATE TABLE access_tokens (
    id TEXT COLLATE "C" PRIMARY KEY,
    token TEXT NOT NULL UNIQUE,
    -- sha256(token || app secret): what a legacy-auth app sends as `i`.
    hash TEXT UNIQUE,
    user_id TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    app_id TEXT COLLATE "C" REFERENCES apps (id) ON DELETE CASCADE,
    session TEXT,
    name TEXT,
    icon_url TEXT,
    permission TEXT NOT NULL DEFAULT '[]',
    created_at BIGINT NOT NULL,
    last_used_at BIGINT
);
CREATE INDEX access_tokens_user ON access_tokens (user_id);

CREATE TABLE follows (
    id TEXT COLLATE "C" PRIMARY KEY,
    follower_id TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    followee_id TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    UNIQUE (follower_id, followee_id)
);
CREATE INDEX follows_followee ON follows (followee_id, id);
CREATE INDEX follows_follower ON follows (follower_id, id);

CREATE TABLE follow_requests (
    id TEXT COLLATE "C" PRIMARY KEY,
    follower_id TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    followee_id TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    UNIQUE (follower_id, followee_id)
);
CREATE INDEX follow_requests_followee ON follow_requests (followee_id, id);
CREATE INDEX follow_requests_follower ON follow_requests (follower_id, id);

CREATE TABLE notes (
    id TEXT COLLATE "C" PRIMARY KEY,
    user_id TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    user_host TEXT,
    text TEXT,
    cw TEXT,
    visibility TEXT NOT NULL CHECK (visibility IN ('public', 'home', 'followers', 'specified')),
    local_only BOOLEAN NOT NULL DEFAULT FALSE,
    reply_id TEXT COLLATE "C" REFERENCES notes (id) ON DELETE CASCADE,
    reply_user_id TEXT COLLATE "C",
    renote_id TEXT COLLATE "C" REFERENCES notes (id) ON DELETE CASCADE,
    renote_user_id TEXT COLLATE "C",
    has_poll BOOLEAN NOT NULL DEFAULT FALSE,
    tags TEXT NOT NULL DEFAULT '[]',
    replies_count BIGINT NOT NULL DEFAULT 0,
    renote_count BIGINT NOT NULL DEFAULT 0,
    uri TEXT,
    url TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT
);
CREATE INDEX notes_user ON notes (user_id, id);
CREATE INDEX notes_reply ON notes (reply_id, id) WHERE reply_id IS NOT NULL;
CREATE INDEX notes_renote ON notes (renote_id, id) WHERE renote_id IS NOT NULL;
CREATE INDEX notes_local_public ON notes (id) WHERE visibility = 'public' AND user_host IS NULL;
CREATE INDEX notes_public ON notes (id) WHERE visibility = 'public';

CREATE TABLE note_mentions (
    note_id TEXT COLLATE "C" NOT NULL REFERENCES notes (id) ON DELETE CASCADE,
    user_id TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (note_id, user_id)
);
CREATE INDEX note_mentions_user ON note_mentions (user_id, note_id);

CREATE TABLE note_visible_users (
    note_id TEXT COLLATE "C" NOT NULL REFERENCES notes (id) ON DELETE CASCADE,
    user_id TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (note_id, user_id)
);
CREATE INDEX note_visible_users_user ON note_visible_users (user_id, note_id);

CREATE TABLE polls (
    note_id TEXT COLLATE "C" PRIMARY KEY REFERENCES notes (id) ON DELETE CASCADE,
    choices TEXT NOT NULL,
    multiple BOOLEAN NOT NULL,
    expires_at BIGINT
);

CREATE TABLE poll_votes (
    id TEXT COLLATE "C" PRIMARY KEY,
    note_id TEXT COLLATE "C" NOT NULL REFERENCES notes (id) ON DELETE CASCADE,
    user_id TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    choice BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (note_id, user_id, choice)
);
CREATE INDEX poll_votes_note ON poll_votes (note_id);
