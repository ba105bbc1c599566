-- Polls that can be answered, and escalation as the coordinators' decision (issue 19).
--
-- A poll reached the towns with only its question ("Kennen Sie dieses Problem …?"): three open polls
-- looked the same. It now carries what the towns need to answer it, copied when it is sent: the
-- problem's title, category and description (written without client data; never the raiser's cases).
-- A polled town still reads the poll, not the problem (0009).
--
-- A problem climbed by itself when its level's deadline passed. Now the scheduler reminds the
-- coordinators and marks the problem overdue (overdue_since: the deadline that passed); it moves a
-- problem only where the district's tenant file turns automatic escalation on, and never into the
-- steering group. Existing problems keep their history; those past their deadline are marked by the
-- next sweep.

ALTER TABLE problem_polls
    ADD COLUMN problem_title text,
    ADD COLUMN problem_category text,
    ADD COLUMN problem_description text;
UPDATE problem_polls p SET problem_title = s.title, problem_category = s.category, problem_description = s.description
FROM structural_problems s WHERE s.id = p.problem_id;
ALTER TABLE problem_polls
    ALTER COLUMN problem_title SET NOT NULL,
    ALTER COLUMN problem_category SET NOT NULL,
    ALTER COLUMN problem_description SET NOT NULL;

-- When the scheduler found the level's deadline passed and reminded the coordinators; cleared when the
-- problem changes level, gets a new deadline or is closed.
ALTER TABLE structural_problems ADD COLUMN overdue_since timestamptz;
ALTER TABLE structural_problems ADD CHECK (overdue_since IS NULL OR status = 'open');

-- The history also says when a deadline passed and when the coordinators set a new one.
ALTER TABLE problem_events DROP CONSTRAINT problem_events_kind_check;
ALTER TABLE problem_events ADD CONSTRAINT problem_events_kind_check
    CHECK (kind IN ('raised', 'assigned', 'polled', 'escalated', 'solved', 'published', 'submitted', 'overdue', 'deadline_set'));
