-- Change requests to the district's minimum documentation standard (issue 19, seed 004: "Aushandlungsprozesse über
-- Mindestanforderungen der Dokumentation"): a case manager or team lead of a town or carrier proposes fields to add to
-- or remove from a phase, with a reason; the district's coordinators accept (the change is applied in the same
-- transaction) or decline it with a reason. The requests belong to the district tenant; the proposing tenant and
-- user are columns. Town staff submit and read their own tenant's through the definer functions below, which take
-- tenant and user from the session, never from an argument. No client data.

-- The standard gets a version: a coordinator's change made against an older page is refused (stale). The district's
-- version is the sum of its phases' versions (rows are never deleted, so it only grows).
ALTER TABLE documentation_standards ADD COLUMN version integer NOT NULL DEFAULT 1;

CREATE FUNCTION documentation_standards_bump_version() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    NEW.version := OLD.version + 1;
    RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION documentation_standards_bump_version() FROM PUBLIC;
CREATE TRIGGER documentation_standards_version BEFORE UPDATE ON documentation_standards
    FOR EACH ROW EXECUTE FUNCTION documentation_standards_bump_version();

CREATE TABLE documentation_standard_requests (
    -- The district whose standard the request is about.
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    proposing_tenant_id uuid NOT NULL REFERENCES tenants (id),
    proposed_by uuid NOT NULL,
    phase text NOT NULL CHECK (phase IN (
        'intake', 'assessment', 'goal_agreement', 'service_steering', 'monitoring', 'reassessment', 'closure')),
    add_fields text[] NOT NULL DEFAULT '{}',
    remove_fields text[] NOT NULL DEFAULT '{}',
    reason text NOT NULL CHECK (length(trim(reason)) BETWEEN 1 AND 2000),
    proposed_at timestamptz NOT NULL DEFAULT now(),
    decision text CHECK (decision IN ('accepted', 'declined')),
    decision_reason text CHECK (length(trim(decision_reason)) BETWEEN 1 AND 2000),
    decided_by uuid,
    decided_at timestamptz,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (id),
    CHECK (cardinality(add_fields) + cardinality(remove_fields) > 0),
    CHECK (NOT (add_fields && remove_fields)),
    CHECK ((decision IS NULL) = (decided_by IS NULL) AND (decision IS NULL) = (decided_at IS NULL)),
    CHECK (decision IS DISTINCT FROM 'declined' OR decision_reason IS NOT NULL)
);
SELECT app_isolate_tenant_table('documentation_standard_requests');
CREATE INDEX documentation_standard_requests_open ON documentation_standard_requests (tenant_id) WHERE decision IS NULL;
CREATE INDEX documentation_standard_requests_proposer ON documentation_standard_requests (proposing_tenant_id);

-- A case manager or team lead of a town or carrier proposes a change to its district's standard; the request's id.
CREATE FUNCTION documentation_request_submit(request_phase text, adding text[], removing text[], request_reason text) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    district uuid;
    created uuid;
BEGIN
    SELECT t.district_id INTO district FROM tenants t
    WHERE t.id = app_current_tenant() AND t.kind IN ('municipality', 'carrier') AND t.district_id IS NOT NULL;
    IF district IS NULL OR NOT EXISTS (
        SELECT 1 FROM users u
        WHERE u.id = app_current_user() AND u.tenant_id = app_current_tenant() AND u.active
          AND u.roles && ARRAY['case_manager', 'team_lead']
    ) THEN
        RAISE EXCEPTION 'only case managers and team leads of a town or carrier propose changes to the documentation standard'
            USING ERRCODE = '42501';
    END IF;
    INSERT INTO documentation_standard_requests (tenant_id, proposing_tenant_id, proposed_by, phase, add_fields, remove_fields, reason)
    VALUES (district, app_current_tenant(), app_current_user(), request_phase, coalesce(adding, '{}'), coalesce(removing, '{}'), request_reason)
    RETURNING id INTO created;
    RETURN created;
END
$$;
REVOKE ALL ON FUNCTION documentation_request_submit(text, text[], text[], text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION documentation_request_submit(text, text[], text[], text) TO kreiswerk_app;

-- The requests the caller may see, newest first: a coordinator of a district every request of it; a case manager or
-- team lead of a town or carrier those of their own tenant. Nobody else sees any.
CREATE FUNCTION documentation_requests()
RETURNS TABLE (id uuid, proposing_tenant text, proposed_by text, phase text, add_fields text[], remove_fields text[], reason text,
               proposed_at timestamptz, decision text, decision_reason text, decided_by text, decided_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
    SELECT r.id, t.name, p.display_name, r.phase, r.add_fields, r.remove_fields, r.reason, r.proposed_at,
           r.decision, r.decision_reason, d.display_name, r.decided_at
    FROM documentation_standard_requests r
    JOIN tenants t ON t.id = r.proposing_tenant_id
    LEFT JOIN users p ON p.id = r.proposed_by
    LEFT JOIN users d ON d.id = r.decided_by
    JOIN users me ON me.id = app_current_user() AND me.tenant_id = app_current_tenant() AND me.active
    WHERE (r.tenant_id = app_current_tenant() AND 'district_coordinator' = ANY (me.roles))
       OR (r.proposing_tenant_id = app_current_tenant() AND me.roles && ARRAY['case_manager', 'team_lead'])
    ORDER BY r.decision IS NOT NULL, r.proposed_at DESC, r.id
$$;
REVOKE ALL ON FUNCTION documentation_requests() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION documentation_requests() TO kreiswerk_app;
