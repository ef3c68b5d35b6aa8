-- How many of a user's followers are on other servers, kept with the other counters: a new
-- note reads it from the author's row (already at hand) to know whether other servers must
-- get it, instead of asking the database on every post.
ALTER TABLE users ADD COLUMN remote_followers_count INTEGER NOT NULL DEFAULT 0;
UPDATE users SET remote_followers_count =
    (SELECT COUNT(*) FROM follows f WHERE f.followee_id = users.id AND f.follower_host IS NOT NULL)
    WHERE id IN (SELECT followee_id FROM follows WHERE follower_host IS NOT NULL);
