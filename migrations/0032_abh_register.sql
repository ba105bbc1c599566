-- The Ausländerbehörde's register of applications (issue 21, Baustein III of seed 004): applications for the residence
-- rights of §§ 25a, 25b and 104c AufenthG and for naturalisation (§ 10 StAG), with the day each was received, its state
-- and the state's history, and who works it. The applicant (name, date of birth, the ABH's file number) lives in the
-- ABH's tenant only: both tables are under forced row-level security; only counts leave the tenant.

CREATE TABLE abh_applicants (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL,
    first_name text NOT NULL CHECK (length(trim(first_name)) BETWEEN 1 AND 200),
    last_name text NOT NULL CHECK (length(trim(last_name)) BETWEEN 1 AND 200),
    date_of_birth date NOT NULL,
    -- The ABH's own file number (Aktenzeichen), when it has one.
    file_number text CHECK (length(file_number) BETWEEN 1 AND 100),
    created_by uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (id)
);
CREATE INDEX abh_applicants_name_idx ON abh_applicants (tenant_id, lower(last_name), lower(first_name), date_of_birth);
SELECT app_isolate_tenant_table('abh_applicants');

CREATE TABLE abh_applications (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL,
    applicant_id uuid NOT NULL,
    kind text NOT NULL CHECK (kind IN ('section_25a', 'section_25b', 'section_104c', 'naturalisation')),
    received_on date NOT NULL,
    state text NOT NULL DEFAULT 'received'
        CHECK (state IN ('received', 'documents_missing', 'in_examination', 'granted', 'refused', 'withdrawn')),
    -- The day it was granted, refused or withdrawn: it leaves the backlog after that day. A decided application is final.
    decided_on date,
    officer_id uuid,
    version integer NOT NULL DEFAULT 1,
    created_by uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (id),
    FOREIGN KEY (tenant_id, applicant_id) REFERENCES abh_applicants (tenant_id, id),
    FOREIGN KEY (tenant_id, officer_id) REFERENCES users (tenant_id, id),
    CHECK ((state IN ('granted', 'refused', 'withdrawn')) = (decided_on IS NOT NULL)),
    CHECK (decided_on IS NULL OR decided_on >= received_on)
);
CREATE INDEX abh_applications_open_idx ON abh_applications (tenant_id, received_on, decided_on);
SELECT app_isolate_tenant_table('abh_applications');

-- Every state an application was in, from the day it was received: never changed, never deleted.
CREATE TABLE abh_application_states (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL,
    application_id uuid NOT NULL,
    state text NOT NULL
        CHECK (state IN ('received', 'documents_missing', 'in_examination', 'granted', 'refused', 'withdrawn')),
    changed_on date NOT NULL,
    note text CHECK (length(note) <= 2000),
    changed_by uuid NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, application_id) REFERENCES abh_applications (tenant_id, id)
);
CREATE INDEX abh_application_states_application_idx ON abh_application_states (tenant_id, application_id, changed_at);
SELECT app_isolate_tenant_table('abh_application_states');
REVOKE UPDATE ON abh_application_states FROM kreiswerk_app;
