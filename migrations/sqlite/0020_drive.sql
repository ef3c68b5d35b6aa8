-- The drive: users' folders and files. A file's bytes live in the blob store (local disk or
-- S3) under `storage_key`, its thumbnail under `thumbnail_key`; a remote file that is not
-- kept here has neither and is shown through the media proxy from `uri`.
CREATE TABLE drive_folders (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    parent_id TEXT REFERENCES drive_folders (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL
);
CREATE INDEX drive_folders_parent ON drive_folders (user_id, parent_id, id);

CREATE TABLE drive_files (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    user_host TEXT,
    folder_id TEXT REFERENCES drive_folders (id) ON DELETE SET NULL,
    name TEXT NOT NULL,
    type TEXT NOT NULL,
    md5 TEXT,
    size INTEGER NOT NULL,
    is_sensitive BOOLEAN NOT NULL DEFAULT FALSE,
    comment TEXT,
    blurhash TEXT,
    width INTEGER,
    height INTEGER,
    storage_key TEXT UNIQUE,
    thumbnail_key TEXT UNIQUE,
    thumbnail_type TEXT,
    uri TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX drive_files_user ON drive_files (user_id, id);
CREATE INDEX drive_files_folder ON drive_files (user_id, folder_id, id);
CREATE INDEX drive_files_md5 ON drive_files (user_id, md5);
CREATE INDEX drive_files_uri ON drive_files (user_id, uri) WHERE uri IS NOT NULL;

-- The files a note shows, in order (JSON array of drive file ids; `[]` for none).
ALTER TABLE notes ADD COLUMN file_ids TEXT NOT NULL DEFAULT '[]';
