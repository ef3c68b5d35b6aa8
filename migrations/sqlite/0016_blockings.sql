-- Blocks, as Misskey has them: follows end both ways, and the blockee can no longer follow,
-- react to, reply to, renote or vote on what the blocker posts. One side is
-- always local: a local user blocked someone, or another server told us (a Block activity)
-- that one of its users blocked a local user.
CREATE TABLE blockings (
    id TEXT PRIMARY KEY,
    blocker_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    blockee_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    -- The Block activity's id, for a block from another server.
    uri TEXT,
    UNIQUE (blocker_id, blockee_id)
);
-- "Who blocks me": the reverse lookup of the unique pair, and `blocking/list` pages.
CREATE INDEX blockings_blockee ON blockings (blockee_id, blocker_id);
CREATE INDEX blockings_blocker_page ON blockings (blocker_id, id);
