-- Things the server tells its administrators (a plugin disabled after failing, …).
CREATE TABLE admin_notices (
    id TEXT COLLATE "C" PRIMARY KEY,
    kind TEXT NOT NULL,
    message TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    read_at BIGINT
);
