-- A reminder is claimed before it is handed to the mail server and released
-- after, so that no two passes (nor a pass after a crash) send it twice; an
-- alert that a later success made moot is closed with the time and the why.

ALTER TABLE reminders ADD COLUMN sending_since TEXT;

ALTER TABLE alerts ADD COLUMN resolved_at TEXT;
ALTER TABLE alerts ADD COLUMN resolution TEXT;
