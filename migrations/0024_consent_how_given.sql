-- How a consent was given (issue 17): in writing (the signed form), orally, or with an interpreter, and then
-- in which language. Consents recorded before this migration keep their history: their "how" stays NULL and
-- the pages say "nicht erfasst"; nothing is filled in for them. The language belongs to an interpreted
-- consent only, and an interpreted consent always names it.
ALTER TABLE consents
    ADD COLUMN given_how text CHECK (given_how IN ('in_writing', 'orally', 'with_interpreter')),
    ADD COLUMN interpreter_language text CHECK (length(btrim(interpreter_language)) BETWEEN 1 AND 100),
    ADD CHECK (interpreter_language IS NULL OR given_how = 'with_interpreter'),
    ADD CHECK (given_how IS DISTINCT FROM 'with_interpreter' OR interpreter_language IS NOT NULL);

COMMENT ON COLUMN consents.given_how IS 'in_writing (signed form), orally or with_interpreter; NULL for consents recorded before 0024 or without saying how';
COMMENT ON COLUMN consents.interpreter_language IS 'The language interpreted into, for a consent given with an interpreter';
