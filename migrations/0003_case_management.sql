-- Case management (Baustein II), first part: clients with the categories of the seed
-- and a tenant's own extra fields, consent, cases through Reis's phases, the case
-- timeline, goals, and the district's minimum documentation standard.
-- Everything here is personal social data of one tenant: every table goes through
-- app_isolate_tenant_table() (migration 0002), which does ENABLE and FORCE ROW LEVEL SECURITY
-- with the tenant policy; IsolationTests walks the catalogue to prove it.

-- Trusted extensions: the database owner may create them. Name search: trigrams, with the
-- tenant in the same GIN index (btree_gin), so a search reads only its tenant's entries.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS btree_gin;

-- MARK: - A tenant's own client fields (KDN.sozial-style categories)

CREATE TABLE client_fields (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    key text NOT NULL CHECK (key ~ '^[a-z][a-z0-9_]{0,39}$'),
    label text NOT NULL CHECK (length(trim(label)) > 0),
    kind text NOT NULL CHECK (kind IN ('text', 'number', 'date', 'choice', 'multi_choice')),
    choices text[] NOT NULL DEFAULT '{}',
    required boolean NOT NULL DEFAULT false,
    position integer NOT NULL DEFAULT 0,
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, key),
    CHECK ((kind IN ('choice', 'multi_choice')) = (cardinality(choices) > 0))
);
SELECT app_isolate_tenant_table('client_fields');

-- MARK: - Clients

CREATE TABLE clients (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL,
    first_name text NOT NULL CHECK (length(trim(first_name)) > 0),
    last_name text NOT NULL CHECK (length(trim(last_name)) > 0),
    date_of_birth date NOT NULL,
    gender text CHECK (gender IN ('female', 'male', 'diverse', 'unspecified')),
    place_of_residence text,
    social_area text,
    residence_status text,
    country_of_origin text,
    languages text[] NOT NULL DEFAULT '{}',
    german_level text CHECK (german_level IN ('none', 'A1', 'A2', 'B1', 'B2', 'C1', 'C2')),
    health_situation text,
    household text,
    youth_office_measures text,
    jobcenter_measures text,
    club_memberships text,
    arrival_date date,
    single_parent boolean NOT NULL DEFAULT false,
    unaccompanied_minor boolean NOT NULL DEFAULT false,
    family_with_barriers boolean NOT NULL DEFAULT false,
    -- Values of the tenant's own fields, by key; validated against client_fields by the service.
    extra jsonb NOT NULL DEFAULT '{}',
    created_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    version integer NOT NULL DEFAULT 1,
    -- Set when the retention period anonymised the record: personal fields are gone, statistics stay.
    anonymised_at timestamptz,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (id)
);
CREATE INDEX clients_name_idx ON clients USING gin (tenant_id, (lower(last_name || ' ' || first_name)) gin_trgm_ops);
CREATE INDEX clients_birth_idx ON clients (tenant_id, date_of_birth);
CREATE INDEX clients_duplicate_idx ON clients (tenant_id, lower(last_name), lower(first_name), date_of_birth);
SELECT app_isolate_tenant_table('clients');

-- Consent: to case management as such, and to each hand-over. Withdrawn, never deleted.
CREATE TABLE consents (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    client_id uuid NOT NULL,
    scope text NOT NULL CHECK (scope IN ('case_management', 'handover')),
    -- For a hand-over: to whom (a service of the directory, or a tenant), in words until referrals exist.
    recipient text,
    given_on date NOT NULL,
    withdrawn_on date,
    recorded_by uuid,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, client_id) REFERENCES clients (tenant_id, id),
    CHECK (withdrawn_on IS NULL OR withdrawn_on >= given_on),
    CHECK ((scope = 'handover') = (recipient IS NOT NULL))
);
CREATE INDEX consents_client_idx ON consents (tenant_id, client_id);
SELECT app_isolate_tenant_table('consents');

-- MARK: - Cases

-- Case numbers count per tenant and year: WIT-2026-0001.
CREATE TABLE case_number_counters (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    year integer NOT NULL,
    last integer NOT NULL,
    PRIMARY KEY (tenant_id, year)
);
SELECT app_isolate_tenant_table('case_number_counters');

CREATE TABLE cases (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    case_number text NOT NULL,
    client_id uuid NOT NULL,
    owner_id uuid NOT NULL,
    -- level1: direct access; level2_internal / level2_external: a report by an internal or external actor.
    channel text NOT NULL CHECK (channel IN ('level1', 'level2_internal', 'level2_external')),
    phase text NOT NULL DEFAULT 'intake' CHECK (phase IN (
        'intake', 'assessment', 'goal_agreement', 'service_steering', 'monitoring', 'reassessment', 'closure')),
    -- The route chosen after assessment.
    route text CHECK (route IN ('welcome_package', 'solved_directly', 'cross_jurisdiction', 'counselling_referral')),
    reason text,
    next_review_on date,
    opened_on date NOT NULL DEFAULT current_date,
    closed_on date,
    closure_reason text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    version integer NOT NULL DEFAULT 1,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (id),
    UNIQUE (tenant_id, case_number),
    FOREIGN KEY (tenant_id, client_id) REFERENCES clients (tenant_id, id),
    FOREIGN KEY (tenant_id, owner_id) REFERENCES users (tenant_id, id),
    CHECK ((phase = 'closure') = (closed_on IS NOT NULL))
);
CREATE INDEX cases_owner_idx ON cases (tenant_id, owner_id, next_review_on) WHERE closed_on IS NULL;
CREATE INDEX cases_client_idx ON cases (tenant_id, client_id);
SELECT app_isolate_tenant_table('cases');

-- Everything that happened in a case, in order: notes, phase changes, goals, consents.
CREATE TABLE case_events (
    tenant_id uuid NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    case_id uuid NOT NULL,
    occurred_at timestamptz NOT NULL DEFAULT now(),
    actor_id uuid,
    kind text NOT NULL CHECK (kind ~ '^[a-z_]+$'),
    text text NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, case_id) REFERENCES cases (tenant_id, id)
);
CREATE INDEX case_events_case_idx ON case_events (tenant_id, case_id, id);
SELECT app_isolate_tenant_table('case_events');

CREATE TABLE goals (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    case_id uuid NOT NULL,
    area text NOT NULL CHECK (area IN ('language', 'work', 'education', 'housing', 'health', 'residence', 'family', 'social')),
    text text NOT NULL CHECK (length(trim(text)) > 0),
    agreed_on date NOT NULL,
    review_on date NOT NULL,
    outcome text CHECK (outcome IN ('achieved', 'partly', 'not_achieved', 'dropped')),
    outcome_note text,
    reviewed_on date,
    created_at timestamptz NOT NULL DEFAULT now(),
    version integer NOT NULL DEFAULT 1,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, case_id) REFERENCES cases (tenant_id, id),
    CHECK (review_on >= agreed_on),
    CHECK ((outcome IS NULL) = (reviewed_on IS NULL))
);
CREATE INDEX goals_case_idx ON goals (tenant_id, case_id);
CREATE INDEX goals_review_idx ON goals (tenant_id, review_on) WHERE outcome IS NULL;
SELECT app_isolate_tenant_table('goals');

-- MARK: - The district's minimum documentation standard

-- Which client and case fields must be filled before a case may enter a phase, per district.
-- A platform table (no personal data): every tenant reads its district's standard; district
-- coordinators change it through the service. Phases without a row use the built-in default.
CREATE TABLE documentation_standards (
    district_id uuid NOT NULL REFERENCES tenants (id),
    phase text NOT NULL CHECK (phase IN (
        'intake', 'assessment', 'goal_agreement', 'service_steering', 'monitoring', 'reassessment', 'closure')),
    required_fields text[] NOT NULL,
    updated_by uuid,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (district_id, phase)
);
GRANT SELECT, INSERT, UPDATE, DELETE ON documentation_standards TO kreiswerk_app;
