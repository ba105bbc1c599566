-- The district's naturalisation campaign (issue 21, Baustein III of seed 004): led by the coordinators with the case
-- managers and the counselling services. The campaign, its events and its letter in several languages are rows of the
-- district tenant, read by the participating towns; that a client was informed is a row of the town (its client), and
-- the district reads only counts per town, through campaign_counts(), never names.

CREATE TABLE naturalisation_campaigns (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL,
    title text NOT NULL CHECK (length(trim(title)) BETWEEN 1 AND 200),
    starts_on date NOT NULL,
    ends_on date NOT NULL,
    description text CHECK (length(description) BETWEEN 1 AND 4000),
    -- The participating towns (tenants of the district) and counselling services (services.id).
    towns uuid[] NOT NULL DEFAULT '{}',
    services uuid[] NOT NULL DEFAULT '{}',
    version integer NOT NULL DEFAULT 1,
    created_by uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (id),
    CHECK (ends_on >= starts_on)
);
ALTER TABLE naturalisation_campaigns ENABLE ROW LEVEL SECURITY;
ALTER TABLE naturalisation_campaigns FORCE ROW LEVEL SECURITY;
CREATE POLICY district_or_participating_town ON naturalisation_campaigns FOR SELECT TO kreiswerk_app
    USING (tenant_id = app_current_tenant() OR app_current_tenant() = ANY (towns));
CREATE POLICY district_writes ON naturalisation_campaigns FOR INSERT TO kreiswerk_app WITH CHECK (tenant_id = app_current_tenant());
CREATE POLICY district_changes ON naturalisation_campaigns FOR UPDATE TO kreiswerk_app
    USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());
CREATE POLICY definer_lookup ON naturalisation_campaigns TO kreiswerk_owner USING (true) WITH CHECK (true);
GRANT SELECT, INSERT, UPDATE ON naturalisation_campaigns TO kreiswerk_app;

-- Events of the campaign (an information evening, a consultation day), district-wide or in one town.
CREATE TABLE campaign_events (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL,
    campaign_id uuid NOT NULL,
    held_on date NOT NULL,
    title text NOT NULL CHECK (length(trim(title)) BETWEEN 1 AND 200),
    place text CHECK (length(place) BETWEEN 1 AND 200),
    town_id uuid REFERENCES tenants (id),
    created_by uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, campaign_id) REFERENCES naturalisation_campaigns (tenant_id, id)
);
-- The letter to clients, one text per language, that case managers hand out or send.
CREATE TABLE campaign_letters (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL,
    campaign_id uuid NOT NULL,
    language text NOT NULL CHECK (language ~ '^[a-z]{2,3}$'),
    body text NOT NULL CHECK (length(trim(body)) BETWEEN 1 AND 10000),
    created_by uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (campaign_id, language),
    FOREIGN KEY (tenant_id, campaign_id) REFERENCES naturalisation_campaigns (tenant_id, id)
);
DO $$
DECLARE
    target text;
BEGIN
    FOREACH target IN ARRAY ARRAY['campaign_events', 'campaign_letters'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', target);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', target);
        -- The towns read what belongs to a campaign they see (the campaign's own policy decides).
        EXECUTE format('CREATE POLICY district_or_participating_town ON %I FOR SELECT TO kreiswerk_app
            USING (tenant_id = app_current_tenant()
                OR EXISTS (SELECT 1 FROM naturalisation_campaigns c WHERE c.id = campaign_id AND app_current_tenant() = ANY (c.towns)))', target);
        EXECUTE format('CREATE POLICY district_writes ON %I FOR INSERT TO kreiswerk_app WITH CHECK (tenant_id = app_current_tenant())', target);
        EXECUTE format('CREATE POLICY definer_lookup ON %I TO kreiswerk_owner USING (true) WITH CHECK (true)', target);
        EXECUTE format('GRANT SELECT, INSERT ON %I TO kreiswerk_app', target);
    END LOOP;
END
$$;

-- A client a town's case manager informed about the campaign (handed the letter, or sent it): a row of the town.
CREATE TABLE campaign_contacts (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL,
    campaign_id uuid NOT NULL REFERENCES naturalisation_campaigns (id),
    client_id uuid NOT NULL,
    informed_on date NOT NULL,
    how text NOT NULL CHECK (how IN ('handed', 'sent', 'event')),
    recorded_by uuid NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (campaign_id, client_id),
    FOREIGN KEY (tenant_id, client_id) REFERENCES clients (tenant_id, id)
);
SELECT app_isolate_tenant_table('campaign_contacts');

-- The campaign's counts per participating town, for its district only: clients informed, naturalisation pre-checks asked
-- in the period, and naturalisation applications received in the period that followed a pre-check of the town.
CREATE FUNCTION campaign_counts(campaign uuid) RETURNS TABLE (town uuid, informed integer, prechecks integer, applications integer)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
    SELECT t.town,
        (SELECT count(*) FROM campaign_contacts k WHERE k.campaign_id = c.id AND k.tenant_id = t.town)::integer,
        (SELECT count(*) FROM abh_prechecks p
         WHERE p.tenant_id = t.town AND p.kind = 'naturalisation' AND p.sent_at::date BETWEEN c.starts_on AND c.ends_on)::integer,
        (SELECT count(*) FROM abh_applications a JOIN abh_prechecks p ON p.id = a.precheck_id
         WHERE p.tenant_id = t.town AND a.kind = 'naturalisation' AND a.received_on BETWEEN c.starts_on AND c.ends_on)::integer
    FROM naturalisation_campaigns c, unnest(c.towns) AS t (town)
    WHERE c.id = campaign AND c.tenant_id = app_current_tenant()
$$;
REVOKE ALL ON FUNCTION campaign_counts(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION campaign_counts(uuid) TO kreiswerk_app;
