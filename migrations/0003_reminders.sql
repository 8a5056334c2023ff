-- Monthly payment reminders, one per order and month, and which alerts were
-- e-mailed.

CREATE TABLE reminders (
    order_id        TEXT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    period          TEXT NOT NULL,             -- 'YYYY-MM'
    due_at          TEXT NOT NULL,             -- UTC instant of [reminders] hour on the day
    status          TEXT NOT NULL CHECK (status IN ('pending', 'failing', 'sent', 'skipped')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    last_error      TEXT,
    sent_at         TEXT,
    recipients      TEXT NOT NULL DEFAULT '[]', -- JSON array
    message_id      TEXT,
    trigger         TEXT NOT NULL DEFAULT 'schedule' CHECK (trigger IN ('schedule', 'manual')),
    note            TEXT,                       -- why it was skipped
    PRIMARY KEY (order_id, period)
) STRICT;

ALTER TABLE alerts ADD COLUMN emailed_at TEXT;
ALTER TABLE alerts ADD COLUMN email_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alerts ADD COLUMN email_error TEXT;
