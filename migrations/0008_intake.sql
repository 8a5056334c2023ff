-- Which records of the webhook intake journal (`<database>-intake`) the
-- database holds: the journal's generation and the last sequence number
-- moved in, written in the same transaction as those deliveries. Recovery
-- after a crash or a power loss moves in exactly the records after it.
CREATE TABLE intake_position (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    generation INTEGER NOT NULL,
    seq        INTEGER NOT NULL
);
