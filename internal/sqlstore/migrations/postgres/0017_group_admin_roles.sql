-- Administrator roles held by a group (Okta's group role assignments): every
-- member of the group holds them as long as they are a member
-- (docs/admin-roles.md). A group's deletion removes its roles.
CREATE TABLE group_admin_roles (
    group_id TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    role     TEXT NOT NULL,
    created  BIGINT NOT NULL,
    PRIMARY KEY (group_id, role)
);
CREATE INDEX group_admin_roles_role ON group_admin_roles (role, group_id);
