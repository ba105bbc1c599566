-- Idempotency keys (issue 18): a client that lost the answer to a change (a COMMIT whose answer never came,
-- a dropped connection) repeats it with the same Idempotency-Key header and gets the first answer instead of
-- a second change. The key is claimed in the change's own transaction (with its audit entries, one
-- statement), so a change and its key commit together or not at all; the answer is stored right after.
CREATE TABLE idempotency_keys (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    user_id uuid NOT NULL,
    key text NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
    -- Method, path and the body's SHA-256: the same key with another request is refused.
    fingerprint text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    -- The first answer, once stored (status NULL: the change committed, its answer was not stored).
    status integer,
    headers jsonb,
    body bytea,
    PRIMARY KEY (tenant_id, user_id, key)
);
CREATE INDEX idempotency_keys_age_idx ON idempotency_keys (created_at);
SELECT app_isolate_tenant_table('idempotency_keys');
-- Each person's keys are their own.
CREATE POLICY own_keys ON idempotency_keys AS RESTRICTIVE TO kreiswerk_app
    USING (user_id = app_current_user()) WITH CHECK (user_id = app_current_user());
GRANT SELECT, INSERT, UPDATE, DELETE ON idempotency_keys TO kreiswerk_app;

-- Claims a key for the acting user in the acting tenant's transaction; a key claimed before (by a change that
-- committed, or one running in parallel) is a unique violation that fails the change. Old keys of the user
-- (a day) are removed on the way, so the table stays small without a job.
CREATE FUNCTION idempotency_claim(claimed text, request text) RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, public, pg_temp
AS $$
    DELETE FROM public.idempotency_keys
    WHERE tenant_id = public.app_current_tenant() AND user_id = public.app_current_user() AND created_at < now() - interval '1 day';
    INSERT INTO public.idempotency_keys (tenant_id, user_id, key, fingerprint)
    VALUES (public.app_current_tenant(), public.app_current_user(), claimed, request);
$$;
REVOKE ALL ON FUNCTION idempotency_claim(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION idempotency_claim(text, text) TO kreiswerk_app;
