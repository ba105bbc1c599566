-- A conference can be called off. Its grants end with it (nobody needs the case's summary for a
-- meeting that will not take place), and its open action items are no longer reminded of.
ALTER TABLE case_conferences
    ADD COLUMN cancelled_at timestamptz,
    ADD COLUMN cancel_reason text,
    ADD CHECK ((cancelled_at IS NULL) = (cancel_reason IS NULL)),
    ADD CHECK (cancel_reason IS NULL OR length(trim(cancel_reason)) > 0);
