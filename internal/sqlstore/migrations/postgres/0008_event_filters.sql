-- The System Log lists events by published time (then seq), newest first
-- in the console, and filters by event type, actor, outcome, target and a
-- time range. Indexes that end in (published, seq) let a filtered page be
-- read in order from the index, stopping after one page, instead of
-- sorting every match; the (…, published) ones they replace could not
-- give the seq order of a page.
DROP INDEX events_type;
DROP INDEX events_actor;
CREATE INDEX events_type_published ON events (event_type, published, seq);
CREATE INDEX events_actor_published ON events (actor_id, published, seq);
CREATE INDEX events_outcome_published ON events (outcome, published, seq);

-- Each target of each event, with the event's published time, for
-- target.id filters (target_ids is a list in one column, which no index
-- can search).
CREATE TABLE event_targets (
    target_id   TEXT NOT NULL,
    t_published BIGINT NOT NULL,
    t_seq       BIGINT NOT NULL,
    PRIMARY KEY (target_id, t_published, t_seq)
);
INSERT INTO event_targets (target_id, t_published, t_seq)
    SELECT DISTINCT t->>'id', e.published, e.seq FROM events e
    CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(e.body::jsonb -> 'target') = 'array' THEN e.body::jsonb -> 'target' ELSE '[]'::jsonb END) t
    WHERE coalesce(t->>'id', '') <> '';
