-- Okta's event hook filters (events.filter): the hook's filter as one JSON
-- document, {"type": "EXPRESSION_LANGUAGE", "eventFilterMap": [{"event":
-- ..., "expression": ...}]}; '' when the hook has none.
ALTER TABLE event_hooks ADD COLUMN filter TEXT NOT NULL DEFAULT '';
