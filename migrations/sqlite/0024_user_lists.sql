-- User lists: a user's own selection of accounts, read as a timeline of its own. A list
-- may be public (others may see, favourite and copy it). `owner_id` is kept on each
-- membership too, so a block can take the blocker out of the blockee's lists in one
-- statement (Misskey's `userListUserId`).
CREATE TABLE user_lists (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    is_public BOOLEAN NOT NULL DEFAULT FALSE,
    created_at INTEGER NOT NULL
);
CREATE INDEX user_lists_owner ON user_lists (user_id, id);

CREATE TABLE user_list_members (
    id TEXT PRIMARY KEY,
    list_id TEXT NOT NULL REFERENCES user_lists (id) ON DELETE CASCADE,
    owner_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    with_replies BOOLEAN NOT NULL DEFAULT FALSE,
    created_at INTEGER NOT NULL,
    UNIQUE (list_id, user_id)
);
CREATE INDEX user_list_members_page ON user_list_members (list_id, id);
CREATE INDEX user_list_members_user ON user_list_members (user_id, owner_id);

CREATE TABLE user_list_favorites (
    list_id TEXT NOT NULL REFERENCES user_lists (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (list_id, user_id)
);
