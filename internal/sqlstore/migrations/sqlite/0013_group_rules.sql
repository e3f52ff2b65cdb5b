-- Group rules (Okta's dynamic group membership) and the memberships each
-- rule manages. name_key is the lower-cased name: names are unique
-- case-insensitively. body holds the target groups and the excluded
-- people (JSON). eval_pending/eval_after record how far the pass that
-- applies a newly activated rule got, so that a pass a crash stopped is
-- resumed.
CREATE TABLE group_rules (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    name_key     TEXT NOT NULL,
    status       TEXT NOT NULL,
    expression   TEXT NOT NULL,
    body         TEXT NOT NULL,
    eval_pending INTEGER NOT NULL DEFAULT 0,
    eval_after   TEXT NOT NULL DEFAULT '',
    created      BIGINT NOT NULL,
    last_updated BIGINT NOT NULL
);
CREATE UNIQUE INDEX group_rules_name_key ON group_rules (name_key);
CREATE INDEX group_rules_status ON group_rules (status, id);

-- One row per target group of a rule, for the rules of a deleted group.
CREATE TABLE group_rule_targets (
    rule_id  TEXT NOT NULL REFERENCES group_rules(id) ON DELETE CASCADE,
    group_id TEXT NOT NULL,
    PRIMARY KEY (rule_id, group_id)
);
CREATE INDEX group_rule_targets_group ON group_rule_targets (group_id, rule_id);

-- A membership a rule made (or shares with another rule). The membership
-- itself is in group_members; a membership without a row here is manual.
CREATE TABLE group_rule_members (
    rule_id  TEXT NOT NULL REFERENCES group_rules(id) ON DELETE CASCADE,
    group_id TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    user_id  TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (rule_id, group_id, user_id)
);
CREATE INDEX group_rule_members_member ON group_rule_members (group_id, user_id);
CREATE INDEX group_rule_members_user ON group_rule_members (user_id);
