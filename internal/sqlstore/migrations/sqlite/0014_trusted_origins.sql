-- Okta Trusted Origins: origins (scheme://host[:port], normalised) trusted
-- for CORS and for redirects. scopes is a JSON list of scope types.
-- trusted_origins_version is bumped by every change, in the change's
-- transaction: nodes cache the origins and read only this counter to know
-- the cache is current.
CREATE TABLE trusted_origins (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    name_key        TEXT NOT NULL UNIQUE,
    origin          TEXT NOT NULL UNIQUE,
    status          TEXT NOT NULL,
    scopes          TEXT NOT NULL,
    created         BIGINT NOT NULL,
    created_by      TEXT NOT NULL,
    last_updated    BIGINT NOT NULL,
    last_updated_by TEXT NOT NULL
);
CREATE TABLE trusted_origins_version (
    id      INTEGER PRIMARY KEY,
    version BIGINT NOT NULL
);
INSERT INTO trusted_origins_version (id, version) VALUES (1, 1);
