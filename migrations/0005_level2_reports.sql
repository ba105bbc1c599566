-- Level-2 reports (Meldeverfahren, KIM concept section 6): an internal actor (Jugendamt,
-- Sozialamt, Jobcenter, ABH) or an external one (counselling services) of the district
-- reports a complex case to a municipality's case-management team. The report is the
-- reporter's row, shared with the receiving team by an explicit grant; the team's
-- decision is the team's row, which the reporter reads.

CREATE TABLE case_reports (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL,
    -- The tenant whose case-management team receives it (a town, or the carrier that carries out its CM).
    recipient_tenant_id uuid NOT NULL REFERENCES tenants (id),
    town_id uuid NOT NULL REFERENCES tenants (id),
    channel text NOT NULL CHECK (channel IN ('level2_internal', 'level2_external')),
    complexity text NOT NULL CHECK (complexity IN (
        'jurisdiction_interplay', 'structural_gap', 'accumulated_disadvantage', 'personal_conflict')),
    first_name text NOT NULL CHECK (length(trim(first_name)) > 0),
    last_name text NOT NULL CHECK (length(trim(last_name)) > 0),
    date_of_birth date NOT NULL,
    languages text[] NOT NULL DEFAULT '{}',
    contact text,
    description text NOT NULL CHECK (length(trim(description)) > 0),
    -- The person agreed to be reported to case management (the reporter confirms it).
    consent_given_on date NOT NULL,
    reporter_name text NOT NULL,
    reported_by uuid NOT NULL,
    reported_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (id)
);
CREATE INDEX case_reports_recipient_idx ON case_reports (recipient_tenant_id, reported_at);
ALTER TABLE case_reports ENABLE ROW LEVEL SECURITY;
ALTER TABLE case_reports FORCE ROW LEVEL SECURITY;
CREATE POLICY reporter_or_granted_recipient ON case_reports FOR SELECT TO kreiswerk_app
    USING (tenant_id = app_current_tenant() OR (recipient_tenant_id = app_current_tenant() AND app_holds_grant('report', id)));
CREATE POLICY reporter_writes ON case_reports FOR INSERT TO kreiswerk_app WITH CHECK (tenant_id = app_current_tenant());
CREATE POLICY definer_lookup ON case_reports TO kreiswerk_owner USING (true) WITH CHECK (true);
GRANT SELECT, INSERT ON case_reports TO kreiswerk_app;

CREATE TABLE case_report_decisions (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL,
    report_id uuid NOT NULL UNIQUE REFERENCES case_reports (id),
    reporter_tenant_id uuid NOT NULL REFERENCES tenants (id),
    decision text NOT NULL CHECK (decision IN ('accepted', 'declined')),
    reason text NOT NULL DEFAULT '',
    -- The case the team opened for an accepted report (its own row).
    case_id uuid,
    decider_name text NOT NULL,
    decided_by uuid NOT NULL,
    decided_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, case_id) REFERENCES cases (tenant_id, id),
    CHECK ((decision = 'accepted') = (case_id IS NOT NULL)),
    CHECK (decision <> 'declined' OR length(trim(reason)) > 0)
);
ALTER TABLE case_report_decisions ENABLE ROW LEVEL SECURITY;
ALTER TABLE case_report_decisions FORCE ROW LEVEL SECURITY;
CREATE POLICY team_or_reporter ON case_report_decisions FOR SELECT TO kreiswerk_app
    USING (tenant_id = app_current_tenant() OR reporter_tenant_id = app_current_tenant());
CREATE POLICY granted_team_decides ON case_report_decisions FOR INSERT TO kreiswerk_app
    WITH CHECK (tenant_id = app_current_tenant() AND app_holds_grant('report', report_id));
CREATE POLICY definer_lookup ON case_report_decisions TO kreiswerk_owner USING (true) WITH CHECK (true);
GRANT SELECT, INSERT ON case_report_decisions TO kreiswerk_app;

-- The case an accepted report opened remembers it.
ALTER TABLE cases ADD COLUMN report_id uuid;
