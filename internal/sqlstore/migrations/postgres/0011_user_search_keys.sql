-- People search (q) is ordered by the matched key, then id, and pages by
-- (key, id): each of the four searched keys gets a byte-order ("C")
-- index ending in id, which serves the prefix match (LIKE on the C
-- collation), the order and the cursor seek. They replace the
-- text_pattern_ops indexes of migration 1, which could serve the match
-- but not the order. SQLite's indexes of migration 1 already end in id
-- (login_key is unique) and compare bytes.
DROP INDEX IF EXISTS users_login_pattern;
DROP INDEX IF EXISTS users_email;
DROP INDEX IF EXISTS users_first_name;
DROP INDEX IF EXISTS users_last_name;
CREATE INDEX users_login_key_c ON users ((login_key COLLATE "C"), id);
CREATE INDEX users_email_c ON users ((lower(email) COLLATE "C"), id);
CREATE INDEX users_first_name_c ON users ((lower(first_name) COLLATE "C"), id);
CREATE INDEX users_last_name_c ON users ((lower(last_name) COLLATE "C"), id);
