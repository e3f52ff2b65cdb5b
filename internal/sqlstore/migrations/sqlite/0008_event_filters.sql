-- The System Log lists newest first (by seq) and filters by event type,
-- actor, outcome and target. Indexes that end in seq let a filtered page
-- be read in order from the index, stopping after one page, instead of
-- sorting every match: (event_type, seq) and (actor_id, seq) replace the
-- (…, published) ones, outcome gets its own.
DROP INDEX events_type;
DROP INDEX events_actor;
CREATE INDEX events_type_seq ON events (event_type, seq);
CREATE INDEX events_actor_seq ON events (actor_id, seq);
CREATE INDEX events_outcome_seq ON events (outcome, seq);

-- Each target of each event, for target.id filters (target_ids is a list
-- in one column, which no index can search).
CREATE TABLE event_targets (
    target_id TEXT NOT NULL,
    seq       BIGINT NOT NULL,
    PRIMARY KEY (target_id, seq)
) WITHOUT ROWID;
INSERT OR IGNORE INTO event_targets (target_id, seq)
    SELECT json_extract(t.value, '$.id'), e.seq FROM events e, json_each(e.body, '$.target') t
    WHERE coalesce(json_extract(t.value, '$.id'), '') <> '';
