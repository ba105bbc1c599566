-- Reads in the district tenant are by role (issue 15, findings 11 and 12). The coordination layer's
-- objects belong to the district tenant (0009), so its tenant policy let every account of that tenant —
-- a case manager, a partner, an ABH officer, a tenant administrator — read every project group, its
-- members, minutes and tasks, every town's unpublished structural problems and the answers to polls.
-- And a town asking the district to moderate a case conference granted the conference, with the
-- client's summary, to the whole district tenant.
--
-- Now, inside the district tenant, the coordination layer is the coordinators' and assistants'; members
-- read their own groups, steering members the steering group, a raiser the problems it raised, everyone
-- a published solution. Restrictive policies say so for every command; rows of other tenants (a town
-- reading its own problem, a member from a town) are not touched by them. And a moderation grant holds
-- only while the person acting is a coordinator of the district.

-- Whether the acting user holds one of `wanted` in the acting tenant (active account). Strict: no user, no role.
CREATE FUNCTION app_user_holds_role(wanted text[]) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
    SELECT EXISTS (SELECT 1 FROM users u
                   WHERE u.id = app_current_user() AND u.tenant_id = app_current_tenant() AND u.active AND u.roles && wanted)
$$;
REVOKE ALL ON FUNCTION app_user_holds_role(text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_user_holds_role(text[]) TO kreiswerk_app;

-- Whether the transaction runs the coordination layer: a coordinator or assistant acting, or the
-- scheduler (a job acts for the district with no user: escalations, poll reminders, task reminders).
CREATE FUNCTION app_coordinates() RETURNS boolean
LANGUAGE sql STABLE
AS $$ SELECT app_current_user() IS NULL OR app_user_holds_role(ARRAY['district_coordinator', 'district_assistant']) $$;
GRANT EXECUTE ON FUNCTION app_coordinates() TO kreiswerk_app;

-- `(SELECT app_coordinates())` is evaluated once per statement, not per row.
CREATE POLICY district_staff_by_role ON project_groups AS RESTRICTIVE TO kreiswerk_app
    USING (tenant_id <> app_current_tenant() OR (SELECT app_coordinates()) OR app_is_group_member(id))
    WITH CHECK (tenant_id <> app_current_tenant() OR (SELECT app_coordinates()));
CREATE POLICY district_staff_by_role ON project_group_members AS RESTRICTIVE TO kreiswerk_app
    USING (tenant_id <> app_current_tenant() OR (SELECT app_coordinates()) OR app_is_group_member(group_id))
    WITH CHECK (tenant_id <> app_current_tenant() OR (SELECT app_coordinates()));
CREATE POLICY district_staff_by_role ON group_tasks AS RESTRICTIVE TO kreiswerk_app
    USING (tenant_id <> app_current_tenant() OR (SELECT app_coordinates()) OR app_is_group_member(group_id))
    WITH CHECK (tenant_id <> app_current_tenant() OR (SELECT app_coordinates()));
CREATE POLICY district_staff_by_role ON committee_meetings AS RESTRICTIVE TO kreiswerk_app
    USING (tenant_id <> app_current_tenant() OR (SELECT app_coordinates())
           OR (group_id IS NOT NULL AND app_is_group_member(group_id))
           OR (group_id IS NULL AND tenant_id = (SELECT app_steering_district())))
    WITH CHECK (tenant_id <> app_current_tenant() OR (SELECT app_coordinates()));

CREATE POLICY district_staff_by_role ON structural_problems AS RESTRICTIVE TO kreiswerk_app
    USING (tenant_id <> app_current_tenant() OR (SELECT app_coordinates()) OR raised_by_tenant_id = app_current_tenant()
           OR published_at IS NOT NULL)
    WITH CHECK (tenant_id <> app_current_tenant() OR (SELECT app_coordinates()) OR raised_by_tenant_id = app_current_tenant());
CREATE POLICY district_staff_by_role ON problem_events AS RESTRICTIVE TO kreiswerk_app
    USING (tenant_id <> app_current_tenant() OR (SELECT app_coordinates()) OR raised_by_tenant_id = app_current_tenant())
    WITH CHECK (tenant_id <> app_current_tenant() OR (SELECT app_coordinates()) OR raised_by_tenant_id = app_current_tenant());
CREATE POLICY district_staff_by_role ON problem_polls AS RESTRICTIVE TO kreiswerk_app
    USING (tenant_id <> app_current_tenant() OR (SELECT app_coordinates()))
    WITH CHECK (tenant_id <> app_current_tenant() OR (SELECT app_coordinates()));
-- An answer is the answering tenant's row; in the district it is the coordinators' to read.
CREATE POLICY district_staff_by_role ON poll_answers AS RESTRICTIVE TO kreiswerk_app
    USING (tenant_id = app_current_tenant() OR district_id <> app_current_tenant() OR (SELECT app_coordinates()));

-- The steering group: its members read it.
DO $$
DECLARE
    steering regclass;
BEGIN
    FOREACH steering IN ARRAY ARRAY['steering_groups', 'steering_members', 'decision_papers', 'paper_decisions']::regclass[] LOOP
        EXECUTE format(
            'CREATE POLICY district_staff_by_role ON %s AS RESTRICTIVE TO kreiswerk_app
                USING (tenant_id <> app_current_tenant() OR (SELECT app_coordinates()) OR tenant_id = (SELECT app_steering_district()))
                WITH CHECK (tenant_id <> app_current_tenant() OR (SELECT app_coordinates()))', steering);
    END LOOP;
END
$$;

-- MARK: - Moderation reaches the coordinators only

-- A grant to the holders of one role of the grantee tenant (the district's coordinators, asked to moderate):
-- it holds only while a person with that role acts, including coordinators who join later.
ALTER TABLE access_grants
    ADD COLUMN grantee_role text,
    ADD CHECK (grantee_role IS NULL OR (grantee_role = 'district_coordinator' AND object_type = 'conference' AND grantee_user_id IS NULL));

-- As 0015's, and a grant to a role holds only while a holder of that role acts.
CREATE OR REPLACE FUNCTION app_holds_grant(kind text, object uuid) RETURNS boolean
LANGUAGE sql STABLE
AS $$
    SELECT EXISTS (SELECT 1 FROM access_grants g
                   WHERE g.object_type = kind AND g.object_id = object AND g.grantee_tenant_id = app_current_tenant() AND g.revoked_at IS NULL
                     AND (g.grantee_user_id IS NULL OR g.grantee_user_id = app_current_user())
                     AND (g.grantee_role IS NULL OR app_user_holds_role(ARRAY[g.grantee_role])))
$$;

-- Conferences planned before: the grant to the moderating district narrows to its coordinators.
UPDATE access_grants g SET grantee_role = 'district_coordinator'
FROM case_conferences f
WHERE g.object_type = 'conference' AND g.object_id = f.id AND g.grantee_tenant_id = f.moderator_tenant_id
  AND g.grantee_user_id IS NULL AND g.revoked_at IS NULL;
