-- PostgreSQL's migration 11 gives the four People search keys byte-order
-- indexes ending in id. SQLite's indexes of migration 1 already are
-- (login_key is unique; the others end in id) and compare bytes: nothing
-- to change here, the number is kept in step with PostgreSQL.
SELECT 1;
