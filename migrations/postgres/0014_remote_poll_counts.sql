-- The votes a remote poll's server reports per choice (a JSON array of counts, replaced by
-- each `Update` of the `Question`); NULL for local polls, whose votes are the rows of
-- poll_votes. Only local users' votes on a remote poll are rows here.
ALTER TABLE polls ADD COLUMN counts TEXT;
