-- Things the server tells its administrators (a plugin disabled after failing, …).
CREATE TABLE admin_notices (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    message TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    read_at INTEGER
);
