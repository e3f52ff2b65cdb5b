-- Apps (catalog instances), their signing keys, and assignments of users
-- and groups. Assignments go with their user or group (ON DELETE CASCADE).
CREATE TABLE apps (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    name_key      TEXT NOT NULL,
    unique_name   TEXT UNIQUE,
    label         TEXT NOT NULL,
    label_key     TEXT NOT NULL,
    status        TEXT NOT NULL,
    sign_on_mode  TEXT NOT NULL,
    external_key  TEXT NOT NULL UNIQUE,
    body          TEXT NOT NULL,
    secrets       TEXT NOT NULL,
    created       BIGINT NOT NULL,
    last_updated  BIGINT NOT NULL,
    version       BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX apps_name_key ON apps (name_key text_pattern_ops);
CREATE INDEX apps_label_key ON apps (label_key text_pattern_ops);
CREATE INDEX apps_status ON apps (status, id);

CREATE TABLE app_keys (
    app_id      TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    kid         TEXT NOT NULL,
    certificate TEXT NOT NULL,
    sealed_key  TEXT NOT NULL,
    bits        INTEGER NOT NULL,
    created     BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    PRIMARY KEY (app_id, kid)
);

CREATE TABLE app_users (
    app_id         TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    user_id        TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    user_name      TEXT NOT NULL DEFAULT '',
    user_name_set  INTEGER NOT NULL DEFAULT 0,
    profile        TEXT NOT NULL,
    external_id    TEXT NOT NULL DEFAULT '',
    status         TEXT NOT NULL,
    sync_state     TEXT NOT NULL,
    created        BIGINT NOT NULL,
    last_updated   BIGINT NOT NULL,
    status_changed BIGINT NOT NULL,
    PRIMARY KEY (app_id, user_id)
);
CREATE INDEX app_users_user ON app_users (user_id, app_id);

CREATE TABLE app_groups (
    app_id       TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    group_id     TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    priority     INTEGER NOT NULL,
    profile      TEXT NOT NULL,
    last_updated BIGINT NOT NULL,
    PRIMARY KEY (app_id, group_id)
);
CREATE INDEX app_groups_group ON app_groups (group_id, app_id);
CREATE INDEX app_groups_priority ON app_groups (app_id, priority);
