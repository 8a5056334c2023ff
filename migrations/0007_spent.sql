-- With [chain] alert_on_spend: the transaction that spent a confirmed
-- payout's output, once a check saw it (asked no more after that).

ALTER TABLE payout_onchain ADD COLUMN spent_by TEXT;
