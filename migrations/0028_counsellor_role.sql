-- A counselling role (issue 20): `counsellor` (Beratung), the staff of a carrier's or an authority's
-- counselling services. They receive the referrals to their tenant's services, accept or decline them,
-- report back, and take part in the case conferences they are invited to; they see nothing of case
-- management. Until now such staff could only be made case managers, which gave them intake, clients,
-- cases, reports and structural problems.
--
-- The role table of 0019 gains one row (Policy.roleTable holds the same; RoleAdministrationTests compare):
--
--   counsellor            carrier, authority                            a tenant administrator of that tenant, or a platform administrator
--
-- And below the application, a counsellor who holds no case-work role of their own tenant reads and
-- writes none of its case-management rows: clients, consents, cases and their timeline, goals, the
-- referrals it sent, its level-2 reports and decisions, the conferences it organises (unless invited
-- by name), and no structural problem, its events and polls (the coordination layer's rows, which the raising
-- tenant otherwise reads). Rows of other tenants (a referral granted to the counsellor's tenant) are not touched.

-- users.roles names every role that exists.
DO $$
DECLARE
    existing text;
BEGIN
    SELECT c.conname INTO existing FROM pg_constraint c
    WHERE c.conrelid = 'public.users'::regclass AND c.contype = 'c' AND pg_get_constraintdef(c.oid) LIKE '%platform_admin%';
    IF existing IS NOT NULL THEN
        EXECUTE format('ALTER TABLE users DROP CONSTRAINT %I', existing);
    END IF;
END
$$;
ALTER TABLE users ADD CONSTRAINT users_roles_check CHECK (
    cardinality(roles) > 0
    AND roles <@ ARRAY['platform_admin', 'district_coordinator', 'district_assistant', 'tenant_admin', 'team_lead',
                       'case_manager', 'abh_officer', 'counsellor', 'partner', 'steering_member']);

CREATE OR REPLACE FUNCTION app_roles_offered(tenant_kind text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE tenant_kind
        WHEN 'platform' THEN ARRAY['platform_admin']
        WHEN 'district' THEN ARRAY['district_coordinator', 'district_assistant', 'tenant_admin', 'partner', 'steering_member']
        WHEN 'municipality' THEN ARRAY['tenant_admin', 'team_lead', 'case_manager', 'partner', 'steering_member']
        WHEN 'carrier' THEN ARRAY['tenant_admin', 'team_lead', 'case_manager', 'counsellor', 'partner', 'steering_member']
        WHEN 'authority' THEN ARRAY['tenant_admin', 'abh_officer', 'counsellor', 'partner', 'steering_member']
        ELSE ARRAY[]::text[]
    END
$$;

-- As 0019's, with `counsellor` among the roles a tenant's administration grants.
CREATE OR REPLACE FUNCTION users_roles_guard() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    target_kind text;
    target_district uuid;
    changed text[];
    added text[];
    not_offered text[];
    actor record;
    role text;
    allowed boolean;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.tenant_id IS DISTINCT FROM OLD.tenant_id OR NEW.id IS DISTINCT FROM OLD.id THEN
            RAISE EXCEPTION 'an account never moves to another tenant or changes its id' USING ERRCODE = 'check_violation';
        END IF;
        IF NEW.roles IS NOT DISTINCT FROM OLD.roles THEN
            RETURN NEW;
        END IF;
        added := ARRAY(SELECT unnest(NEW.roles) EXCEPT SELECT unnest(OLD.roles));
        changed := added || ARRAY(SELECT unnest(OLD.roles) EXCEPT SELECT unnest(NEW.roles));
    ELSE
        added := NEW.roles;
        changed := NEW.roles;
    END IF;

    SELECT t.kind, coalesce(t.district_id, CASE WHEN t.kind = 'district' THEN t.id END) INTO target_kind, target_district
    FROM public.tenants t WHERE t.id = NEW.tenant_id;
    not_offered := ARRAY(SELECT unnest(added) EXCEPT SELECT unnest(public.app_roles_offered(target_kind)));
    IF cardinality(not_offered) > 0 THEN
        RAISE EXCEPTION 'role % does not exist in a tenant of kind %', array_to_string(not_offered, ', '), target_kind
            USING ERRCODE = 'check_violation', HINT = 'see app_roles_offered(kind) and the README''s roles table';
    END IF;

    IF pg_has_role(current_user, (SELECT c.relowner FROM pg_catalog.pg_class c WHERE c.oid = 'public.users'::regclass), 'MEMBER') THEN
        RETURN NEW;
    END IF;

    IF public.app_current_user() IS NULL THEN
        RAISE EXCEPTION 'roles are granted only by a signed-in user (app.user_id is not set)' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF public.app_current_user() = NEW.id THEN
        RAISE EXCEPTION 'nobody changes their own roles: another administrator must' USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT * INTO actor FROM public.app_acting_account();
    IF NOT FOUND THEN
        RAISE EXCEPTION 'the acting user is no active account' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF 'platform_admin' = ANY (actor.roles) AND actor.tenant_kind = 'platform' THEN
        RETURN NEW;
    END IF;
    FOREACH role IN ARRAY changed LOOP
        allowed := CASE
            WHEN role IN ('district_coordinator', 'district_assistant', 'steering_member') THEN
                'district_coordinator' = ANY (actor.roles) AND actor.tenant_kind = 'district' AND actor.tenant_id = target_district
            WHEN role IN ('tenant_admin', 'team_lead', 'case_manager', 'abh_officer', 'counsellor', 'partner') THEN
                'tenant_admin' = ANY (actor.roles) AND actor.tenant_id = NEW.tenant_id
            ELSE false
        END;
        IF NOT allowed THEN
            RAISE EXCEPTION 'the acting user may not grant or take away role %', role USING ERRCODE = 'insufficient_privilege';
        END IF;
    END LOOP;
    RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION users_roles_guard() FROM PUBLIC;

-- MARK: - Counsellors see nothing of case management

-- Whether the acting user counsels and holds no case-work role in the acting tenant. No user (the operator, a job): false.
CREATE FUNCTION app_counsels_only() RETURNS boolean
LANGUAGE sql STABLE
AS $$
    SELECT app_current_user() IS NOT NULL AND app_user_holds_role(ARRAY['counsellor'])
       AND NOT app_user_holds_role(ARRAY['case_manager', 'team_lead'])
$$;
REVOKE ALL ON FUNCTION app_counsels_only() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_counsels_only() TO kreiswerk_app;

-- `(SELECT app_counsels_only())` is evaluated once per statement, not per row.
DO $$
DECLARE
    case_work regclass;
BEGIN
    FOREACH case_work IN ARRAY ARRAY['clients', 'consents', 'case_number_counters', 'cases', 'case_events', 'goals',
                                     'case_reports', 'case_report_decisions']::regclass[] LOOP
        EXECUTE format(
            'CREATE POLICY counsellors_no_case_work ON %s AS RESTRICTIVE TO kreiswerk_app
                USING (tenant_id <> app_current_tenant() OR NOT (SELECT app_counsels_only()))', case_work);
    END LOOP;
END
$$;
-- A referral the tenant sent is case work; one to the tenant's own service is the counsellor's to answer.
CREATE POLICY counsellors_no_case_work ON referrals AS RESTRICTIVE TO kreiswerk_app
    USING (tenant_id <> app_current_tenant() OR receiver_tenant_id = app_current_tenant() OR NOT (SELECT app_counsels_only()));
-- A conference the tenant organises: only if the counsellor was invited to it by name.
CREATE POLICY counsellors_no_case_work ON case_conferences AS RESTRICTIVE TO kreiswerk_app
    USING (tenant_id <> app_current_tenant() OR NOT (SELECT app_counsels_only()) OR app_holds_grant('conference', id));
CREATE POLICY counsellors_no_case_work ON conference_participants AS RESTRICTIVE TO kreiswerk_app
    USING (tenant_id <> app_current_tenant() OR NOT (SELECT app_counsels_only()) OR app_holds_grant('conference', conference_id));
CREATE POLICY counsellors_no_case_work ON conference_action_items AS RESTRICTIVE TO kreiswerk_app
    USING (tenant_id <> app_current_tenant() OR NOT (SELECT app_counsels_only()) OR app_holds_grant('conference', conference_id));
-- Structural problems and their polls belong to the district tenant; the raising tenant reads its own (0009). Not its counsellors.
DO $$
DECLARE
    coordination regclass;
BEGIN
    FOREACH coordination IN ARRAY ARRAY['structural_problems', 'problem_events', 'problem_polls', 'poll_answers']::regclass[] LOOP
        EXECUTE format(
            'CREATE POLICY counsellors_no_case_work ON %s AS RESTRICTIVE TO kreiswerk_app USING (NOT (SELECT app_counsels_only()))', coordination);
    END LOOP;
END
$$;
