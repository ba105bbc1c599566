-- Function privileges, hardened (issue 15, findings 1, 2, 4 and 5). Before this migration a
-- request connection could create a temporary table that a SECURITY DEFINER function with
-- `search_path = public` resolved before public's own (PostgreSQL searches pg_temp first unless it
-- is named), and so run its own trigger as kreiswerk_owner; PUBLIC could execute the sign-in
-- lookups; the request role could claim and complete every tenant's jobs and seal the audit trail.
-- ConfigurationTests' catalogue test holds every rule below for every later migration too.

-- The job worker's role (ops/lib/bootstrap.sql creates it, a member of kreiswerk_app) must exist.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'kreiswerk_worker')
        OR NOT pg_has_role('kreiswerk_worker', 'kreiswerk_app', 'MEMBER') THEN
        RAISE EXCEPTION 'the role kreiswerk_worker (a member of kreiswerk_app) is missing'
            USING HINT = 'run ops/lib/bootstrap.sql as a superuser first (ops/run and ops/test do): psql -v owner_password=… -v app_password=… -v worker_password=… -f ops/lib/bootstrap.sql';
    END IF;
END
$$;

-- No role but the owner creates temporary objects in this database: the shadowing of the
-- finding above needs one, and so does the same trick against the invoker functions that
-- row-level security policies call (app_holds_grant reads access_grants by its plain name).
-- (A WARNING, not an error, where the database belongs to someone else: then revoke it there.)
DO $$
BEGIN
    EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
END
$$;

-- 1. Every SECURITY DEFINER function resolves names in pg_catalog and public, pg_temp last.
-- 2. Nothing is executable by PUBLIC: every function is granted to the roles that call it.
-- Functions of extensions (pg_trgm, btree_gin) are left as their extension made them: they run
-- with the caller's rights and read nothing.
DO $$
DECLARE
    f record;
BEGIN
    FOR f IN SELECT p.oid::regprocedure AS signature, p.prosecdef AS definer
             FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE n.nspname = 'public'
               AND NOT EXISTS (SELECT 1 FROM pg_depend d
                               WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e') LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f.signature);
        IF f.definer THEN
            EXECUTE format('ALTER FUNCTION %s SET search_path = pg_catalog, public, pg_temp', f.signature);
        END IF;
    END LOOP;
END
$$;
-- And so for every function a later migration creates.
ALTER DEFAULT PRIVILEGES FOR ROLE kreiswerk_owner REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

-- 4. Claiming, completing, failing, releasing and recovering jobs, and sealing the audit trail,
-- are the worker's: a request connection can do none of them.
REVOKE EXECUTE ON FUNCTION job_claim(text, text[], text[], integer, bigint[]), job_complete(text, bigint[]),
    job_fail(text, bigint, text, timestamptz), job_release(text, bigint[]), job_recover_expired(), audit_seal(integer)
    FROM kreiswerk_app;
GRANT EXECUTE ON FUNCTION job_claim(text, text[], text[], integer, bigint[]), job_complete(text, bigint[]),
    job_fail(text, bigint, text, timestamptz), job_release(text, bigint[]), job_recover_expired(), audit_seal(integer)
    TO kreiswerk_worker;

-- 5. An audit entry without a tenant (a sign-in attempt for an unknown address) is written only
-- by a transaction that acts for no tenant: a tenant cannot write entries that no tenant reads.
ALTER POLICY tenant_append ON audit_log
    WITH CHECK (tenant_id = app_current_tenant() OR (tenant_id IS NULL AND app_current_tenant() IS NULL));

-- 5. A tenant grants sight only of its own objects: the referral it sent, the report it made, the
-- conference it organises. (Invoker rights: the grantor sees its own rows under their policies.)
CREATE FUNCTION app_owns_grantable(kind text, object uuid) RETURNS boolean
LANGUAGE sql STABLE
AS $$
    SELECT CASE kind
        WHEN 'referral' THEN EXISTS (SELECT 1 FROM public.referrals r WHERE r.id = object AND r.tenant_id = public.app_current_tenant())
        WHEN 'report' THEN EXISTS (SELECT 1 FROM public.case_reports r WHERE r.id = object AND r.tenant_id = public.app_current_tenant())
        WHEN 'conference' THEN EXISTS (SELECT 1 FROM public.case_conferences f WHERE f.id = object AND f.tenant_id = public.app_current_tenant())
        ELSE false
    END
$$;
GRANT EXECUTE ON FUNCTION app_owns_grantable(text, uuid) TO kreiswerk_app;
ALTER POLICY grantor_writes ON access_grants
    WITH CHECK (tenant_id = app_current_tenant() AND app_owns_grantable(object_type, object_id));
