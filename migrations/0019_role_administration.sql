-- Role administration in the database, below the application's Policy (issue 15, finding 6):
-- which roles exist in which tenant kind, who may grant (or take away) each, and that nobody
-- changes their own roles. The same table is Policy.roleTable in Swift; a test compares them.
--
--   role                  tenant kinds                                  granted by
--   platform_admin        platform                                      a platform administrator
--   district_coordinator  district                                      a coordinator of that district, or a platform administrator
--   district_assistant    district                                      a coordinator of that district, or a platform administrator
--   steering_member       district, municipality, carrier, authority   a coordinator of that district, or a platform administrator
--   tenant_admin          district, municipality, carrier, authority   a tenant administrator of that tenant, or a platform administrator
--   team_lead             municipality, carrier                         a tenant administrator of that tenant, or a platform administrator
--   case_manager          municipality, carrier                         a tenant administrator of that tenant, or a platform administrator
--   abh_officer           authority                                     a tenant administrator of that tenant, or a platform administrator
--   partner               district, municipality, carrier, authority   a tenant administrator of that tenant, or a platform administrator
--
-- The operator path (the owner role: migrations, `tenants apply`, `kreiswerk users create`, and
-- definer functions) acts without a user: for it only the kind rule holds. Every other role (the
-- request role above all) changes roles only as a signed-in user (app.user_id) who may grant each
-- role added or taken away, and never on their own account.

-- The roles an account of a tenant of `tenant_kind` may hold.
CREATE FUNCTION app_roles_offered(tenant_kind text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE tenant_kind
        WHEN 'platform' THEN ARRAY['platform_admin']
        WHEN 'district' THEN ARRAY['district_coordinator', 'district_assistant', 'tenant_admin', 'partner', 'steering_member']
        WHEN 'municipality' THEN ARRAY['tenant_admin', 'team_lead', 'case_manager', 'partner', 'steering_member']
        WHEN 'carrier' THEN ARRAY['tenant_admin', 'team_lead', 'case_manager', 'partner', 'steering_member']
        WHEN 'authority' THEN ARRAY['tenant_admin', 'abh_officer', 'partner', 'steering_member']
        ELSE ARRAY[]::text[]
    END
$$;
REVOKE ALL ON FUNCTION app_roles_offered(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_roles_offered(text) TO kreiswerk_app;

-- The acting user (app.user_id) as the role rule needs them: home tenant, its kind and district, roles.
-- Definer, because the acting user may belong to another tenant than the one the transaction acts for
-- (a platform administrator acting for a town, a coordinator for a town of the district). It reveals
-- nothing but the acting user's own account.
CREATE FUNCTION app_acting_account() RETURNS TABLE (tenant_id uuid, tenant_kind text, district_id uuid, roles text[])
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
    SELECT u.tenant_id, t.kind, coalesce(t.district_id, CASE WHEN t.kind = 'district' THEN t.id END), u.roles
    FROM public.users u JOIN public.tenants t ON t.id = u.tenant_id AND t.active
    WHERE u.id = public.app_current_user() AND u.active
$$;
REVOKE ALL ON FUNCTION app_acting_account() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_acting_account() TO kreiswerk_app;

-- Checks every new account and every change of roles. Runs as the caller (not a definer function), so
-- that current_user tells the operator path (the table's owner, or a superuser) from the request role.
CREATE FUNCTION users_roles_guard() RETURNS trigger
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

    -- The kind rule holds for everyone, the operator too (for roles added: one the tenant's kind lost may be taken away).
    SELECT t.kind, coalesce(t.district_id, CASE WHEN t.kind = 'district' THEN t.id END) INTO target_kind, target_district
    FROM public.tenants t WHERE t.id = NEW.tenant_id;
    not_offered := ARRAY(SELECT unnest(added) EXCEPT SELECT unnest(public.app_roles_offered(target_kind)));
    IF cardinality(not_offered) > 0 THEN
        RAISE EXCEPTION 'role % does not exist in a tenant of kind %', array_to_string(not_offered, ', '), target_kind
            USING ERRCODE = 'check_violation', HINT = 'see app_roles_offered(kind) and the README''s roles table';
    END IF;

    -- The operator path: the owner of the table (migrations, tenants apply, the CLI's users create, definer functions) or a superuser.
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
            WHEN role IN ('tenant_admin', 'team_lead', 'case_manager', 'abh_officer', 'partner') THEN
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
CREATE TRIGGER users_roles_guard BEFORE INSERT OR UPDATE ON users FOR EACH ROW EXECUTE FUNCTION users_roles_guard();

-- Accounts that an installation holds against the table (made before it existed) are named, not changed:
-- the trigger refuses only new grants, so an administrator can take such roles away.
DO $$
DECLARE
    offending text;
BEGIN
    SELECT string_agg(u.email || ' (' || t.slug || ': ' || array_to_string(u.roles, ',') || ')', '; ') INTO offending
    FROM users u JOIN tenants t ON t.id = u.tenant_id
    WHERE NOT u.roles <@ app_roles_offered(t.kind);
    IF offending IS NOT NULL THEN
        RAISE NOTICE 'accounts with roles their tenant kind does not have (take them away): %', offending;
    END IF;
END
$$;
