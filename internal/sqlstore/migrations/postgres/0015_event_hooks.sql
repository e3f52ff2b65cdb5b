-- Okta Event Hooks: an endpoint and the System Log event types it takes.
-- The settings (description, uri, headers, the secret header's name, the
-- event types, createdBy) are one JSON document; the secret header's value
-- is sealed by keys.Sealer ('' when the hook has none). Deliveries are
-- jobs (the jobs table), enqueued with the events they carry.
CREATE TABLE event_hooks (
    id                  TEXT PRIMARY KEY,
    name                TEXT NOT NULL,
    status              TEXT NOT NULL,
    verification_status TEXT NOT NULL,
    body                TEXT NOT NULL,
    auth_value          TEXT NOT NULL,
    created             BIGINT NOT NULL,
    last_updated        BIGINT NOT NULL
);
