-- Every local account signs what it sends to other servers with an RSA key pair of its own
-- (HTTP signatures), made the first time it is needed. Kept out of `users`, whose rows are
-- read and cached on every request; keys are read only when federating.
CREATE TABLE actor_keys (
    user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    public_key_pem TEXT NOT NULL,
    private_key_pem TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
