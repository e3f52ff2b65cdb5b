CREATE TABLE sessions (
    id_hash      TEXT PRIMARY KEY,
    id           TEXT NOT NULL UNIQUE,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created      BIGINT NOT NULL,
    last_seen    BIGINT NOT NULL,
    idle_expires BIGINT NOT NULL,
    expires      BIGINT NOT NULL,
    auth_time    BIGINT NOT NULL,
    amr          TEXT NOT NULL,
    ip           TEXT NOT NULL,
    user_agent   TEXT NOT NULL,
    csrf         TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires);

CREATE TABLE sso_pending (
    id      TEXT PRIMARY KEY,
    body    TEXT NOT NULL,
    expires BIGINT NOT NULL
);

CREATE TABLE replay_cache (
    key     TEXT PRIMARY KEY,
    expires BIGINT NOT NULL
);

CREATE TABLE throttle (
    key          TEXT PRIMARY KEY,
    window_start BIGINT NOT NULL,
    hits         INTEGER NOT NULL
);
