-- Federation: remote actors, the keys they sign with, the durable job queue, and what is
-- known about each remote server.

-- A remote user's ActivityPub identity and where to deliver to it (NULL for local users,
-- whose ids are made from the public URL).
ALTER TABLE users ADD COLUMN uri TEXT;
ALTER TABLE users ADD COLUMN url TEXT;
ALTER TABLE users ADD COLUMN inbox TEXT;
ALTER TABLE users ADD COLUMN shared_inbox TEXT;
ALTER TABLE users ADD COLUMN followers_uri TEXT;
ALTER TABLE users ADD COLUMN last_fetched_at BIGINT;
CREATE UNIQUE INDEX users_uri ON users (uri) WHERE uri IS NOT NULL;

-- The public key a remote actor signs with, found by the `keyId` of a signature.
CREATE TABLE remote_keys (
    key_id TEXT COLLATE "C" PRIMARY KEY,
    user_id TEXT COLLATE "C" NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
    public_key_pem TEXT NOT NULL
);

-- Whether a follower is remote, so "does this author have followers elsewhere?" (asked on
-- every new note) is one probe of a small index.
ALTER TABLE follows ADD COLUMN follower_host TEXT;
CREATE INDEX follows_remote_followers ON follows (followee_id) WHERE follower_host IS NOT NULL;
-- The id of the remote Follow activity a request came from: the Accept or Reject names it.
ALTER TABLE follow_requests ADD COLUMN activity_id TEXT;

CREATE UNIQUE INDEX notes_uri ON notes (uri) WHERE uri IS NOT NULL;

-- The job queue: work that must happen even if the process dies (delivery, inbox
-- processing), enqueued in the transaction of the write that causes it. Claiming a job moves
-- its `run_at` to the end of a lease: a process killed mid-job leaves a lease that runs out,
-- and the job is claimed again. Done jobs are deleted; jobs that gave up keep their row with
-- `dead_at` set, for the admin to see.
CREATE TABLE jobs (
    id BIGSERIAL PRIMARY KEY,
    queue TEXT NOT NULL,
    payload TEXT NOT NULL,
    run_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    dead_at BIGINT
);
CREATE INDEX jobs_due ON jobs (queue, run_at) WHERE dead_at IS NULL;

-- Remote servers: first seen, whether deliveries reach them, and the admin's policy.
CREATE TABLE instances (
    host TEXT PRIMARY KEY,
    first_seen_at BIGINT NOT NULL,
    last_success_at BIGINT,
    failing_since BIGINT,
    suspended BOOLEAN NOT NULL DEFAULT FALSE
);
