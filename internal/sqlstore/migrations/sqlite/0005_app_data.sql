-- Data an integration keeps per app: imported IAM roles, Connect profile
-- lists, provisioning settings. One JSON document per (app, kind).
CREATE TABLE app_data (
    app_id  TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    kind    TEXT NOT NULL,
    body    TEXT NOT NULL,
    updated BIGINT NOT NULL,
    PRIMARY KEY (app_id, kind)
);
