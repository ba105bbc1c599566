-- Case conferences (Fallkonferenz): municipal (called by the case manager, a district
-- coordinator may be asked to moderate) or district (moderated by a district coordinator).
-- The conference is the organising tenant's row; invited tenants see its summary, agenda,
-- minutes and action items through explicit grants that rest on the client's consent.

CREATE TABLE case_conferences (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL,
    case_id uuid NOT NULL,
    kind text NOT NULL CHECK (kind IN ('municipal', 'district')),
    title text NOT NULL CHECK (length(trim(title)) > 0),
    scheduled_at timestamptz NOT NULL,
    -- What participants may know of the case (with the client's consent), the agenda, the minutes.
    summary text NOT NULL CHECK (length(trim(summary)) > 0),
    agenda text NOT NULL DEFAULT '',
    minutes text NOT NULL DEFAULT '',
    -- District conferences are moderated by a coordinator of the district.
    moderator_tenant_id uuid REFERENCES tenants (id),
    organiser_name text NOT NULL,
    created_by uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    version integer NOT NULL DEFAULT 1,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (id),
    FOREIGN KEY (tenant_id, case_id) REFERENCES cases (tenant_id, id),
    CHECK (kind = 'municipal' OR moderator_tenant_id IS NOT NULL)
);
CREATE INDEX case_conferences_case_idx ON case_conferences (tenant_id, case_id);
ALTER TABLE case_conferences ENABLE ROW LEVEL SECURITY;
ALTER TABLE case_conferences FORCE ROW LEVEL SECURITY;
CREATE POLICY organiser_or_invited ON case_conferences FOR SELECT TO kreiswerk_app
    USING (tenant_id = app_current_tenant() OR app_holds_grant('conference', id));
CREATE POLICY organiser_writes ON case_conferences FOR INSERT TO kreiswerk_app WITH CHECK (tenant_id = app_current_tenant());
CREATE POLICY organiser_updates ON case_conferences FOR UPDATE TO kreiswerk_app
    USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());
CREATE POLICY definer_lookup ON case_conferences TO kreiswerk_owner USING (true) WITH CHECK (true);
GRANT SELECT, INSERT, UPDATE ON case_conferences TO kreiswerk_app;

-- Who takes part: tenants of the district (their staff see the conference) and people without
-- an account (integration council, volunteers), recorded by name.
CREATE TABLE conference_participants (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    conference_id uuid NOT NULL REFERENCES case_conferences (id),
    participant_tenant_id uuid REFERENCES tenants (id),
    external_name text,
    PRIMARY KEY (tenant_id, id),
    CHECK ((participant_tenant_id IS NULL) <> (external_name IS NULL))
);
CREATE INDEX conference_participants_conference_idx ON conference_participants (conference_id);
ALTER TABLE conference_participants ENABLE ROW LEVEL SECURITY;
ALTER TABLE conference_participants FORCE ROW LEVEL SECURITY;
CREATE POLICY organiser_or_invited ON conference_participants FOR SELECT TO kreiswerk_app
    USING (tenant_id = app_current_tenant() OR app_holds_grant('conference', conference_id));
CREATE POLICY organiser_writes ON conference_participants FOR INSERT TO kreiswerk_app WITH CHECK (tenant_id = app_current_tenant());
CREATE POLICY definer_lookup ON conference_participants TO kreiswerk_owner USING (true) WITH CHECK (true);
GRANT SELECT, INSERT ON conference_participants TO kreiswerk_app;

CREATE TABLE conference_action_items (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    conference_id uuid NOT NULL REFERENCES case_conferences (id),
    text text NOT NULL CHECK (length(trim(text)) > 0),
    owner_name text NOT NULL CHECK (length(trim(owner_name)) > 0),
    owner_tenant_id uuid REFERENCES tenants (id),
    due_on date NOT NULL,
    done_on date,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX conference_action_items_due_idx ON conference_action_items (tenant_id, due_on) WHERE done_on IS NULL;
ALTER TABLE conference_action_items ENABLE ROW LEVEL SECURITY;
ALTER TABLE conference_action_items FORCE ROW LEVEL SECURITY;
CREATE POLICY organiser_or_invited ON conference_action_items FOR SELECT TO kreiswerk_app
    USING (tenant_id = app_current_tenant() OR app_holds_grant('conference', conference_id));
CREATE POLICY organiser_writes ON conference_action_items FOR INSERT TO kreiswerk_app WITH CHECK (tenant_id = app_current_tenant());
CREATE POLICY organiser_updates ON conference_action_items FOR UPDATE TO kreiswerk_app
    USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());
CREATE POLICY definer_lookup ON conference_action_items TO kreiswerk_owner USING (true) WITH CHECK (true);
GRANT SELECT, INSERT, UPDATE ON conference_action_items TO kreiswerk_app;
