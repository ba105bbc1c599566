-- Reads without a transaction of their own (issue 16): a page that only reads acts for its tenant with
-- session settings, runs its reads as single statements (each its own implicit transaction) and ends with
-- app_end_read, which appends the read's audit entries and clears the settings in one round trip: act,
-- read, end = 3 round trips where BEGIN, act, read, audit, COMMIT were 5. A read that fails is ended with
-- app_end_read('[]'), or its connection is closed (Database.reading): no connection goes back to the pool
-- still acting for a tenant.

-- The one way audit entries are appended: the events of a transaction or a read as one JSON array
-- (AuditLog.Entries), in one statement. Invoker rights: the audit trail's policies hold.
CREATE FUNCTION audit_append(events jsonb) RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, public, pg_temp
AS $$
    INSERT INTO public.audit_log (tenant_id, actor_id, action, object_type, object_id, purpose, detail, client_address)
    SELECT e.tenant_id, e.actor_id, e.action, e.object_type, e.object_id, e.purpose, coalesce(e.detail, '{}'), e.client_address
    FROM jsonb_to_recordset(events) AS e(
        tenant_id uuid, actor_id uuid, action text, object_type text, object_id text, purpose text, detail jsonb, client_address text)
$$;
REVOKE ALL ON FUNCTION audit_append(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit_append(jsonb) TO kreiswerk_app, kreiswerk_worker;

-- Ends a read: its audit entries first (written while the acting tenant still holds, so the trail's
-- policy checks them against it), then the acting settings cleared for the session.
CREATE FUNCTION app_end_read(events jsonb) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    IF jsonb_array_length(events) > 0 THEN
        PERFORM public.audit_append(events);
    END IF;
    PERFORM set_config('app.tenant_id', '', false), set_config('app.user_id', '', false), set_config('app.district_id', '', false);
END
$$;
REVOKE ALL ON FUNCTION app_end_read(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_end_read(jsonb) TO kreiswerk_app;
