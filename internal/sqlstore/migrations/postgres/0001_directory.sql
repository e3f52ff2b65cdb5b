CREATE TABLE users (
    id              TEXT PRIMARY KEY,
    login_key       TEXT NOT NULL UNIQUE,
    status          TEXT NOT NULL,
    email           TEXT NOT NULL DEFAULT '',
    first_name      TEXT NOT NULL DEFAULT '',
    last_name       TEXT NOT NULL DEFAULT '',
    profile         TEXT NOT NULL,
    credentials     TEXT NOT NULL,
    created         BIGINT NOT NULL,
    activated       BIGINT,
    status_changed  BIGINT,
    last_login      BIGINT,
    last_updated    BIGINT NOT NULL,
    password_changed BIGINT,
    failed_logins   INTEGER NOT NULL DEFAULT 0,
    version         BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX users_status_id ON users (status, id);
CREATE INDEX users_last_updated ON users (last_updated, id);
CREATE INDEX users_email ON users (lower(email) text_pattern_ops);
CREATE INDEX users_first_name ON users (lower(first_name) text_pattern_ops);
CREATE INDEX users_last_name ON users (lower(last_name) text_pattern_ops);
CREATE INDEX users_login_pattern ON users (login_key text_pattern_ops);

CREATE TABLE user_unique_values (
    attr      TEXT NOT NULL,
    value_key TEXT NOT NULL,
    user_id   TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (attr, value_key)
);
CREATE INDEX user_unique_values_user ON user_unique_values (user_id);

CREATE TABLE groups (
    id          TEXT PRIMARY KEY,
    type        TEXT NOT NULL,
    name        TEXT NOT NULL,
    name_key    TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created     BIGINT NOT NULL,
    last_updated BIGINT NOT NULL,
    last_membership_updated BIGINT NOT NULL
);
CREATE INDEX groups_name_key ON groups (name_key text_pattern_ops);

CREATE TABLE group_members (
    group_id TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    user_id  TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created  BIGINT NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user ON group_members (user_id, group_id);

CREATE TABLE profile_schema (
    id   INTEGER PRIMARY KEY,
    body TEXT NOT NULL
);

CREATE TABLE events (
    seq         BIGSERIAL PRIMARY KEY,
    uuid        TEXT NOT NULL UNIQUE,
    published   BIGINT NOT NULL,
    event_type  TEXT NOT NULL,
    severity    TEXT NOT NULL,
    actor_id    TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    target_ids  TEXT NOT NULL,
    body        TEXT NOT NULL
);
CREATE INDEX events_published ON events (published, seq);
CREATE INDEX events_type ON events (event_type, published);
CREATE INDEX events_actor ON events (actor_id, published);

CREATE TABLE api_tokens (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    user_id     TEXT NOT NULL DEFAULT '',
    role        TEXT NOT NULL,
    created     BIGINT NOT NULL,
    last_used   BIGINT,
    expires_at  BIGINT,
    revoked     BIGINT
);

CREATE TABLE admin_roles (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role    TEXT NOT NULL,
    created BIGINT NOT NULL,
    PRIMARY KEY (user_id, role)
);
