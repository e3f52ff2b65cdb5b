-- A counter bumped by every change to policies, rules or their app
-- assignments, in the change's transaction: nodes cache the rules they
-- evaluate at each sign-on and read only this counter to know the cache
-- is current.
CREATE TABLE policy_version (
    id      INTEGER PRIMARY KEY,
    version BIGINT NOT NULL
);
INSERT INTO policy_version (id, version) VALUES (1, 1);
