-- Sign-on policies (Okta's OKTA_SIGN_ON, ACCESS_POLICY, PASSWORD), their
-- rules, and the access policy of each app. Settings, conditions and
-- actions are one JSON document per row; at most one system (default)
-- policy per type.
CREATE TABLE policies (
    id           TEXT PRIMARY KEY,
    type         TEXT NOT NULL,
    name         TEXT NOT NULL,
    status       TEXT NOT NULL,
    priority     INTEGER NOT NULL,
    system       INTEGER NOT NULL,
    body         TEXT NOT NULL,
    created      BIGINT NOT NULL,
    last_updated BIGINT NOT NULL
);
CREATE INDEX policies_type ON policies (type, priority);
CREATE UNIQUE INDEX policies_system ON policies (type) WHERE system = 1;

CREATE TABLE policy_rules (
    id           TEXT PRIMARY KEY,
    policy_id    TEXT NOT NULL REFERENCES policies(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    status       TEXT NOT NULL,
    priority     INTEGER NOT NULL,
    system       INTEGER NOT NULL,
    body         TEXT NOT NULL,
    created      BIGINT NOT NULL,
    last_updated BIGINT NOT NULL
);
CREATE INDEX policy_rules_policy ON policy_rules (policy_id, priority);

CREATE TABLE app_policies (
    app_id    TEXT PRIMARY KEY REFERENCES apps(id) ON DELETE CASCADE,
    policy_id TEXT NOT NULL REFERENCES policies(id) ON DELETE CASCADE
);
CREATE INDEX app_policies_policy ON app_policies (policy_id);
