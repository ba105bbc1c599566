-- The district's service directory (Versorgungssystem) and referrals (Verweisberatung)
-- with the district's standard hand-over: the only way one tenant's staff see another
-- tenant's client, as an explicit, recorded grant that the policies below honour.

-- MARK: - Service directory

-- Counselling services of the district, declared in tenants/DISTRICT/services.yaml.
-- Directory data (no personal data): every tenant may read it.
CREATE TABLE services (
    id uuid PRIMARY KEY,
    district_id uuid NOT NULL REFERENCES tenants (id),
    key text NOT NULL CHECK (key ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    name text NOT NULL CHECK (length(trim(name)) > 0),
    programme text NOT NULL,
    -- The tenant whose staff receive referrals to this service.
    carrier_id uuid NOT NULL REFERENCES tenants (id),
    legal_spheres text[] NOT NULL DEFAULT '{}' CHECK (legal_spheres <@ ARRAY['SGB II', 'SGB III', 'SGB VIII', 'SGB XII', 'AufenthG']),
    -- Municipality slugs; empty: the whole district.
    towns text[] NOT NULL DEFAULT '{}',
    languages text[] NOT NULL DEFAULT '{}',
    contact_email text,
    contact_phone text,
    active boolean NOT NULL DEFAULT true,
    UNIQUE (district_id, key)
);
GRANT SELECT ON services TO kreiswerk_app;

-- MARK: - Grants

-- An explicit, recorded permission of one tenant (tenant_id, the grantor) for another
-- (grantee_tenant_id) to see one object. Created and revoked only by the grantor; the
-- grantee sees that it exists. Revoked, never deleted.
CREATE TABLE access_grants (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL,
    grantee_tenant_id uuid NOT NULL REFERENCES tenants (id),
    object_type text NOT NULL CHECK (object_type IN ('referral', 'report', 'conference')),
    object_id uuid NOT NULL,
    -- The client's consent the grant rests on (a level-2 report records the reporter's confirmation instead).
    consent_id uuid,
    granted_by uuid NOT NULL,
    granted_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz,
    revoked_by uuid,
    revoke_reason text,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (id),
    FOREIGN KEY (tenant_id, consent_id) REFERENCES consents (tenant_id, id),
    CHECK (grantee_tenant_id <> tenant_id),
    CHECK ((object_type IN ('referral', 'conference')) = (consent_id IS NOT NULL))
);
CREATE INDEX access_grants_object_idx ON access_grants (object_id) WHERE revoked_at IS NULL;
CREATE INDEX access_grants_consent_idx ON access_grants (tenant_id, consent_id);
ALTER TABLE access_grants ENABLE ROW LEVEL SECURITY;
ALTER TABLE access_grants FORCE ROW LEVEL SECURITY;
CREATE POLICY grantor_or_grantee ON access_grants FOR SELECT TO kreiswerk_app
    USING (tenant_id = app_current_tenant() OR grantee_tenant_id = app_current_tenant());
CREATE POLICY grantor_writes ON access_grants FOR INSERT TO kreiswerk_app WITH CHECK (tenant_id = app_current_tenant());
CREATE POLICY grantor_revokes ON access_grants FOR UPDATE TO kreiswerk_app
    USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());
CREATE POLICY definer_lookup ON access_grants TO kreiswerk_owner USING (true) WITH CHECK (true);
GRANT SELECT, INSERT, UPDATE ON access_grants TO kreiswerk_app;

-- Whether the acting tenant holds a live grant for an object.
CREATE FUNCTION app_holds_grant(kind text, object uuid) RETURNS boolean
LANGUAGE sql STABLE
AS $$
    SELECT EXISTS (SELECT 1 FROM access_grants g
                   WHERE g.object_type = kind AND g.object_id = object AND g.grantee_tenant_id = app_current_tenant() AND g.revoked_at IS NULL)
$$;
GRANT EXECUTE ON FUNCTION app_holds_grant(text, uuid) TO kreiswerk_app;

-- MARK: - Referrals

-- A referral of the sending tenant (tenant_id) to a service. It carries the agreed minimal
-- data set of the client: exactly what the receiver may see, and nothing else of the sender.
CREATE TABLE referrals (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    case_id uuid NOT NULL,
    client_id uuid NOT NULL,
    service_id uuid NOT NULL REFERENCES services (id),
    receiver_tenant_id uuid NOT NULL REFERENCES tenants (id),
    case_number text NOT NULL,
    -- The minimal data set (the district's standard hand-over).
    first_name text NOT NULL,
    last_name text NOT NULL,
    date_of_birth date NOT NULL,
    languages text[] NOT NULL DEFAULT '{}',
    german_level text,
    place_of_residence text,
    reason text NOT NULL CHECK (length(trim(reason)) > 0),
    sender_name text NOT NULL,
    sent_by uuid NOT NULL,
    sent_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (id),
    FOREIGN KEY (tenant_id, case_id) REFERENCES cases (tenant_id, id),
    FOREIGN KEY (tenant_id, client_id) REFERENCES clients (tenant_id, id)
);
CREATE INDEX referrals_case_idx ON referrals (tenant_id, case_id);
CREATE INDEX referrals_receiver_idx ON referrals (receiver_tenant_id, sent_at);
ALTER TABLE referrals ENABLE ROW LEVEL SECURITY;
ALTER TABLE referrals FORCE ROW LEVEL SECURITY;
CREATE POLICY sender_or_granted_receiver ON referrals FOR SELECT TO kreiswerk_app
    USING (tenant_id = app_current_tenant()
        OR (receiver_tenant_id = app_current_tenant() AND app_holds_grant('referral', id)));
CREATE POLICY sender_writes ON referrals FOR INSERT TO kreiswerk_app WITH CHECK (tenant_id = app_current_tenant());
CREATE POLICY definer_lookup ON referrals TO kreiswerk_owner USING (true) WITH CHECK (true);
GRANT SELECT, INSERT ON referrals TO kreiswerk_app;

-- The receiver's answers: accepted, declined (with a reason the sender sees), feedback with an
-- outcome. Rows of the receiving tenant; the sender reads the answers to its own referrals.
CREATE TABLE referral_responses (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    referral_id uuid NOT NULL REFERENCES referrals (id),
    sender_tenant_id uuid NOT NULL REFERENCES tenants (id),
    kind text NOT NULL CHECK (kind IN ('accepted', 'declined', 'feedback')),
    outcome text CHECK (outcome IN ('started', 'completed', 'not_reached', 'discontinued', 'other')),
    note text NOT NULL DEFAULT '',
    responder_name text NOT NULL,
    responded_by uuid NOT NULL,
    responded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CHECK ((kind = 'feedback') = (outcome IS NOT NULL)),
    CHECK (kind <> 'declined' OR length(trim(note)) > 0)
);
CREATE INDEX referral_responses_referral_idx ON referral_responses (referral_id, responded_at);
ALTER TABLE referral_responses ENABLE ROW LEVEL SECURITY;
ALTER TABLE referral_responses FORCE ROW LEVEL SECURITY;
CREATE POLICY receiver_or_sender ON referral_responses FOR SELECT TO kreiswerk_app
    USING (tenant_id = app_current_tenant() OR sender_tenant_id = app_current_tenant());
-- The receiver answers only while it holds the grant (the referral is visible to it).
CREATE POLICY granted_receiver_writes ON referral_responses FOR INSERT TO kreiswerk_app
    WITH CHECK (tenant_id = app_current_tenant() AND app_holds_grant('referral', referral_id));
CREATE POLICY definer_lookup ON referral_responses TO kreiswerk_owner USING (true) WITH CHECK (true);
GRANT SELECT, INSERT ON referral_responses TO kreiswerk_app;
