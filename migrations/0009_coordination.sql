-- The district coordination layer (Baustein I, concept sections 5 and 7): structural problems
-- and their escalation ladder, the coordinators' polls of the towns, project groups, the
-- steering group with its decision papers.
--
-- Coordination objects belong to the district (tenant_id = the district): its coordinators
-- work on them with the ordinary tenant policy. The towns reach them only through the
-- policies below: the raising tenant sees its own problems, every tenant of the district sees
-- a problem once a coordinator has published its solution, a polled town sees the poll (not
-- the problem), committee members with an account see their committee. Cases are linked to a
-- problem by reference in the case's own tenant, so no client data ever crosses.
--
-- Every table here goes through app_isolate_tenant_table (0002): ENABLE and FORCE ROW LEVEL SECURITY
-- with the tenant policy; the policies added below only widen reading as described.

-- The district of the acting tenant (a district for itself; NULL for the platform).
CREATE FUNCTION app_tenant_district() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT coalesce(t.district_id, t.id) FROM tenants t WHERE t.id = app_current_tenant() AND t.kind <> 'platform' $$;
GRANT EXECUTE ON FUNCTION app_tenant_district() TO kreiswerk_app;

-- MARK: - Project groups (first: problems are handed to them)

CREATE TABLE project_groups (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL UNIQUE,
    level text NOT NULL CHECK (level IN ('municipal', 'district')),
    -- A municipal group works for one town.
    town_tenant_id uuid REFERENCES tenants (id),
    name text NOT NULL CHECK (length(trim(name)) BETWEEN 1 AND 200),
    topic text NOT NULL DEFAULT '',
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    version integer NOT NULL DEFAULT 1,
    PRIMARY KEY (tenant_id, id),
    CHECK ((level = 'municipal') = (town_tenant_id IS NOT NULL))
);
SELECT app_isolate_tenant_table('project_groups');

-- Members: staff with an account (user_id, member_tenant_id) or people without one, such as
-- members of an integration council or a volunteer initiative (section 8), by name.
CREATE TABLE project_group_members (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL,
    group_id uuid NOT NULL REFERENCES project_groups (id),
    user_id uuid,
    member_tenant_id uuid REFERENCES tenants (id),
    name text NOT NULL CHECK (length(trim(name)) BETWEEN 1 AND 200),
    organisation text NOT NULL CHECK (length(trim(organisation)) BETWEEN 1 AND 200),
    joined_at timestamptz NOT NULL DEFAULT now(),
    left_at timestamptz,
    PRIMARY KEY (tenant_id, id),
    CHECK ((user_id IS NULL) = (member_tenant_id IS NULL))
);
CREATE INDEX project_group_members_group_idx ON project_group_members (group_id);
CREATE INDEX project_group_members_user_idx ON project_group_members (user_id) WHERE left_at IS NULL;
SELECT app_isolate_tenant_table('project_group_members');

-- Whether the signed-in user is a current member of a project group (SECURITY DEFINER: a policy
-- on the member table cannot query that table itself).
CREATE FUNCTION app_is_group_member(wanted uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
AS $$
    SELECT EXISTS (SELECT 1 FROM project_group_members m
                   WHERE m.group_id = wanted AND m.user_id = app_current_user() AND m.left_at IS NULL)
$$;
REVOKE ALL ON FUNCTION app_is_group_member(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_is_group_member(uuid) TO kreiswerk_app;

CREATE POLICY members_read ON project_groups FOR SELECT TO kreiswerk_app USING (app_is_group_member(id));
CREATE POLICY members_read ON project_group_members FOR SELECT TO kreiswerk_app USING (app_is_group_member(group_id));

-- Meetings of a project group, or of the steering group (group_id NULL).
CREATE TABLE committee_meetings (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL UNIQUE,
    group_id uuid REFERENCES project_groups (id),
    scheduled_at timestamptz NOT NULL,
    location text NOT NULL DEFAULT '',
    agenda text NOT NULL DEFAULT '',
    -- Items for the agenda are taken until this day (steering group).
    agenda_deadline date,
    minutes text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    version integer NOT NULL DEFAULT 1,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX committee_meetings_when_idx ON committee_meetings (tenant_id, scheduled_at);
SELECT app_isolate_tenant_table('committee_meetings');
CREATE POLICY members_read ON committee_meetings FOR SELECT TO kreiswerk_app USING (group_id IS NOT NULL AND app_is_group_member(group_id));

CREATE TABLE group_tasks (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL,
    group_id uuid NOT NULL REFERENCES project_groups (id),
    meeting_id uuid REFERENCES committee_meetings (id),
    text text NOT NULL CHECK (length(trim(text)) BETWEEN 1 AND 1000),
    owner_name text NOT NULL CHECK (length(trim(owner_name)) BETWEEN 1 AND 200),
    -- When the owner has an account, the scheduler reminds them; otherwise the coordinators.
    owner_user_id uuid,
    due_on date NOT NULL,
    done_on date,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX group_tasks_due_idx ON group_tasks (tenant_id, due_on) WHERE done_on IS NULL;
SELECT app_isolate_tenant_table('group_tasks');
CREATE POLICY members_read ON group_tasks FOR SELECT TO kreiswerk_app USING (app_is_group_member(group_id));

-- MARK: - Structural problems and the escalation ladder

CREATE TABLE structural_problems (
    -- The district that steers it.
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL UNIQUE,
    number bigint GENERATED ALWAYS AS IDENTITY,
    raised_by_tenant_id uuid NOT NULL REFERENCES tenants (id),
    raised_by uuid NOT NULL,
    raised_by_name text NOT NULL,
    title text NOT NULL CHECK (length(trim(title)) BETWEEN 1 AND 200),
    category text NOT NULL CHECK (category IN ('jurisdiction_interplay', 'structural_gap', 'accumulated_disadvantage', 'personal_conflict')),
    description text NOT NULL CHECK (length(trim(description)) BETWEEN 1 AND 10000),
    legal_spheres text[] NOT NULL DEFAULT '{}' CHECK (legal_spheres <@ ARRAY['SGB II', 'SGB III', 'SGB VIII', 'SGB XII', 'AufenthG']),
    -- About a district-wide actor (ABH, Jobcenter): starts at district level.
    district_wide_actor boolean NOT NULL DEFAULT false,
    -- How many of the raising tenant's cases show it (the links stay in that tenant).
    case_count integer NOT NULL CHECK (case_count > 0),
    level text NOT NULL CHECK (level IN ('municipal', 'district', 'steering', 'state')),
    level_since timestamptz NOT NULL,
    -- When the scheduler takes it up a level; NULL: no deadline at this level.
    level_deadline timestamptz,
    -- The project group working on it at this level.
    group_id uuid REFERENCES project_groups (id),
    status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'solved', 'submitted')),
    solution text,
    solved_at timestamptz,
    -- Offered to the other towns as good practice.
    published_at timestamptz,
    -- The concern put to the state (Anliegen an das Land).
    state_submission text,
    submitted_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    version integer NOT NULL DEFAULT 1,
    PRIMARY KEY (tenant_id, id),
    CHECK ((status = 'solved') = (solution IS NOT NULL AND solved_at IS NOT NULL)),
    CHECK (published_at IS NULL OR status = 'solved'),
    CHECK ((status = 'submitted') = (submitted_at IS NOT NULL AND level = 'state'))
);
CREATE INDEX structural_problems_open_idx ON structural_problems (tenant_id, level_deadline) WHERE status = 'open';
CREATE INDEX structural_problems_raiser_idx ON structural_problems (raised_by_tenant_id);
SELECT app_isolate_tenant_table('structural_problems');
GRANT USAGE ON SEQUENCE structural_problems_number_seq TO kreiswerk_app;
-- The raising tenant sees and raises its own; every tenant of the district reads a published solution.
CREATE POLICY raiser_reads ON structural_problems FOR SELECT TO kreiswerk_app USING (raised_by_tenant_id = app_current_tenant());
CREATE POLICY raiser_raises ON structural_problems FOR INSERT TO kreiswerk_app
    WITH CHECK (raised_by_tenant_id = app_current_tenant() AND raised_by = app_current_user() AND tenant_id = app_tenant_district()
                AND status = 'open');
CREATE POLICY published_reads ON structural_problems FOR SELECT TO kreiswerk_app
    USING (published_at IS NOT NULL AND tenant_id = app_tenant_district());

-- Which of the raising tenant's cases show the problem: a row of that tenant, by reference only.
CREATE TABLE problem_cases (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    problem_id uuid NOT NULL REFERENCES structural_problems (id),
    case_id uuid NOT NULL,
    PRIMARY KEY (tenant_id, problem_id, case_id),
    FOREIGN KEY (tenant_id, case_id) REFERENCES cases (tenant_id, id)
);
CREATE INDEX problem_cases_case_idx ON problem_cases (tenant_id, case_id);
SELECT app_isolate_tenant_table('problem_cases');

-- The problem's history: what the statement to the state is written from.
CREATE TABLE problem_events (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id bigint GENERATED ALWAYS AS IDENTITY,
    problem_id uuid NOT NULL REFERENCES structural_problems (id),
    raised_by_tenant_id uuid NOT NULL REFERENCES tenants (id),
    at timestamptz NOT NULL DEFAULT now(),
    kind text NOT NULL CHECK (kind IN ('raised', 'assigned', 'polled', 'escalated', 'solved', 'published', 'submitted')),
    from_level text,
    to_level text,
    text text NOT NULL DEFAULT '',
    actor_name text NOT NULL,
    by_scheduler boolean NOT NULL DEFAULT false,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX problem_events_problem_idx ON problem_events (problem_id, at);
SELECT app_isolate_tenant_table('problem_events');
GRANT USAGE ON SEQUENCE problem_events_id_seq TO kreiswerk_app;
CREATE POLICY raiser_reads ON problem_events FOR SELECT TO kreiswerk_app USING (raised_by_tenant_id = app_current_tenant());
CREATE POLICY raiser_raises ON problem_events FOR INSERT TO kreiswerk_app
    WITH CHECK (raised_by_tenant_id = app_current_tenant() AND tenant_id = app_tenant_district() AND kind = 'raised');

-- "Do you know this, how did you solve it?": a coordinator asks the case managers of the other towns.
CREATE TABLE problem_polls (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL UNIQUE,
    problem_id uuid NOT NULL REFERENCES structural_problems (id),
    question text NOT NULL CHECK (length(trim(question)) BETWEEN 1 AND 5000),
    -- The tenants asked (those whose case managers work on cases), never the raising one.
    asked_tenants uuid[] NOT NULL CHECK (cardinality(asked_tenants) > 0),
    asked_by uuid NOT NULL,
    asked_by_name text NOT NULL,
    asked_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX problem_polls_problem_idx ON problem_polls (problem_id);
SELECT app_isolate_tenant_table('problem_polls');
-- A polled tenant reads the question (it carries what they need to know), not the problem.
CREATE POLICY asked_reads ON problem_polls FOR SELECT TO kreiswerk_app USING (app_current_tenant() = ANY (asked_tenants));

-- Whether the acting tenant was asked in a poll (SECURITY DEFINER, for the answers' policy).
CREATE FUNCTION app_was_polled(wanted uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
AS $$ SELECT EXISTS (SELECT 1 FROM problem_polls p WHERE p.id = wanted AND app_current_tenant() = ANY (p.asked_tenants)) $$;
REVOKE ALL ON FUNCTION app_was_polled(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_was_polled(uuid) TO kreiswerk_app;

-- An answer is the answering tenant's row; the district reads all answers to its polls.
CREATE TABLE poll_answers (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL,
    poll_id uuid NOT NULL REFERENCES problem_polls (id),
    district_id uuid NOT NULL REFERENCES tenants (id),
    answered_by uuid NOT NULL,
    answered_by_name text NOT NULL,
    known boolean NOT NULL,
    answer text NOT NULL CHECK (length(answer) <= 5000),
    answered_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX poll_answers_poll_idx ON poll_answers (poll_id);
SELECT app_isolate_tenant_table('poll_answers');
-- Answer only polls one was asked in, for their own district.
CREATE POLICY answer_asked_polls ON poll_answers AS RESTRICTIVE FOR INSERT TO kreiswerk_app
    WITH CHECK (app_was_polled(poll_id) AND district_id = app_tenant_district());
CREATE POLICY district_reads ON poll_answers FOR SELECT TO kreiswerk_app USING (district_id = app_current_tenant());

-- MARK: - The steering group (Lenkungsgruppe)

CREATE TABLE steering_groups (
    tenant_id uuid PRIMARY KEY REFERENCES tenants (id),
    -- Rules of procedure (Geschäftsordnung), as adopted in the constituting meeting.
    rules_of_procedure text NOT NULL DEFAULT '',
    rules_adopted_on date,
    version integer NOT NULL DEFAULT 1
);
SELECT app_isolate_tenant_table('steering_groups');

CREATE TABLE steering_members (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL,
    name text NOT NULL CHECK (length(trim(name)) BETWEEN 1 AND 200),
    -- The body represented: district departments, the towns' social departments, Agentur für
    -- Arbeit, Jobcenter, ABH, welfare carriers.
    body text NOT NULL CHECK (length(trim(body)) BETWEEN 1 AND 200),
    body_kind text NOT NULL CHECK (body_kind IN ('district', 'municipality', 'employment_agency', 'jobcenter', 'foreigners_authority', 'welfare', 'other')),
    -- With an account, the member reads the steering group's papers and gets its reminders.
    user_id uuid,
    joined_on date NOT NULL DEFAULT current_date,
    left_on date,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX steering_members_user_idx ON steering_members (user_id) WHERE left_on IS NULL;
SELECT app_isolate_tenant_table('steering_members');

-- At most 20 members at a time (section 7). Checked under a lock on the group's row, so two
-- concurrent additions cannot both take the twentieth seat.
CREATE FUNCTION steering_members_limit() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    seated integer;
BEGIN
    IF NEW.left_on IS NOT NULL THEN
        RETURN NEW;
    END IF;
    PERFORM 1 FROM steering_groups WHERE tenant_id = NEW.tenant_id FOR UPDATE;
    SELECT count(*) INTO seated FROM steering_members
    WHERE tenant_id = NEW.tenant_id AND left_on IS NULL AND id <> NEW.id;
    IF seated >= 20 THEN
        RAISE EXCEPTION 'the steering group has 20 members already' USING ERRCODE = 'KW020';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER steering_members_limit BEFORE INSERT OR UPDATE ON steering_members FOR EACH ROW EXECUTE FUNCTION steering_members_limit();

-- The district whose steering group the signed-in user sits in, if any.
CREATE FUNCTION app_steering_district() RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
AS $$ SELECT m.tenant_id FROM steering_members m WHERE m.user_id = app_current_user() AND m.left_on IS NULL LIMIT 1 $$;
REVOKE ALL ON FUNCTION app_steering_district() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_steering_district() TO kreiswerk_app;

CREATE POLICY members_read ON steering_groups FOR SELECT TO kreiswerk_app USING (tenant_id = app_steering_district());
CREATE POLICY members_read ON steering_members FOR SELECT TO kreiswerk_app USING (tenant_id = app_steering_district());
CREATE POLICY steering_members_read ON committee_meetings FOR SELECT TO kreiswerk_app
    USING (group_id IS NULL AND tenant_id = app_steering_district());

-- A decision paper (Entscheidungsvorlage), put forward by a district project group.
CREATE TABLE decision_papers (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL UNIQUE,
    title text NOT NULL CHECK (length(trim(title)) BETWEEN 1 AND 200),
    proposal text NOT NULL CHECK (length(trim(proposal)) BETWEEN 1 AND 20000),
    group_id uuid NOT NULL REFERENCES project_groups (id),
    problem_id uuid REFERENCES structural_problems (id),
    -- The meeting whose agenda it is on.
    meeting_id uuid REFERENCES committee_meetings (id),
    status text NOT NULL DEFAULT 'submitted' CHECK (status IN ('submitted', 'accepted', 'rejected', 'deferred')),
    created_at timestamptz NOT NULL DEFAULT now(),
    version integer NOT NULL DEFAULT 1,
    PRIMARY KEY (tenant_id, id)
);
SELECT app_isolate_tenant_table('decision_papers');
CREATE POLICY steering_members_read ON decision_papers FOR SELECT TO kreiswerk_app USING (tenant_id = app_steering_district());

-- Every decision taken on a paper, with the vote (a deferred paper comes back).
CREATE TABLE paper_decisions (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL,
    paper_id uuid NOT NULL REFERENCES decision_papers (id),
    meeting_id uuid NOT NULL REFERENCES committee_meetings (id),
    decision text NOT NULL CHECK (decision IN ('accepted', 'rejected', 'deferred')),
    votes_for integer NOT NULL CHECK (votes_for BETWEEN 0 AND 20),
    votes_against integer NOT NULL CHECK (votes_against BETWEEN 0 AND 20),
    abstentions integer NOT NULL CHECK (abstentions BETWEEN 0 AND 20),
    note text NOT NULL DEFAULT '',
    recorded_by_name text NOT NULL,
    decided_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CHECK (votes_for + votes_against + abstentions <= 20)
);
CREATE INDEX paper_decisions_paper_idx ON paper_decisions (paper_id, decided_at);
SELECT app_isolate_tenant_table('paper_decisions');
CREATE POLICY steering_members_read ON paper_decisions FOR SELECT TO kreiswerk_app USING (tenant_id = app_steering_district());

-- MARK: - Notifications from the coordination layer

-- As 0008's notify(), and a district may also notify the staff of its own tenants (committee
-- members, polled case managers, task owners).
CREATE OR REPLACE FUNCTION notify(recipient uuid, notification_kind text, notification_title text, notification_link text, occasion text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
AS $$
DECLARE
    home uuid;
    preference text;
    created uuid;
BEGIN
    SELECT u.tenant_id, u.email_notifications INTO home, preference FROM users u
    WHERE u.id = recipient AND u.active
      AND (u.tenant_id = app_current_tenant()
           OR ('district_coordinator' = ANY (u.roles)
               AND u.tenant_id = (SELECT t.district_id FROM tenants t WHERE t.id = app_current_tenant()))
           OR u.tenant_id IN (SELECT t.id FROM tenants t
                              WHERE t.district_id = app_current_tenant()
                                AND (SELECT d.kind FROM tenants d WHERE d.id = app_current_tenant()) = 'district'));
    IF home IS NULL THEN
        RETURN false;
    END IF;
    INSERT INTO notifications (tenant_id, user_id, kind, title, link, dedupe_key)
    VALUES (home, recipient, notification_kind, notification_title, notification_link, occasion)
    ON CONFLICT (user_id, dedupe_key) DO NOTHING
    RETURNING id INTO created;
    IF created IS NULL THEN
        RETURN false;
    END IF;
    IF preference = 'immediate' THEN
        INSERT INTO jobs (tenant_id, queue, kind, payload, unique_key)
        VALUES (home, 'mail', 'mail.notification', jsonb_build_object('notification', created), created::text);
    END IF;
    RETURN true;
END
$$;

-- The case managers and team leads of the acting district's tenants (whom a poll asks), with their tenant.
CREATE FUNCTION district_case_managers() RETURNS TABLE (user_id uuid, tenant_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
AS $$
    SELECT u.id, u.tenant_id FROM users u JOIN tenants t ON t.id = u.tenant_id
    WHERE u.active AND u.roles && ARRAY['case_manager', 'team_lead'] AND t.active AND t.district_id = app_current_tenant()
$$;
REVOKE ALL ON FUNCTION district_case_managers() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION district_case_managers() TO kreiswerk_app;
