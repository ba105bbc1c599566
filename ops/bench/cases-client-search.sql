-- What PostgreSQL does for one GET /api/v1/clients?q=LAST+FIRST (a client search by name), statement by statement,
-- for pgbench: the database's own floor for that request, without the HTTP server. Mirrors (the identity comes from the
-- server's IdentityCache: no statement while it listens) Database.reading (act for the session, no transaction),
-- ClientRecords.search (the name branch: client_search_ids, then the clients under row-level
-- security) and app_end_read (the audit entry, settings cleared); if those change, change this.
-- Variables, given with pgbench -D: tenant, user (uuid), hash (the token's SHA-256 as \x and hex),
-- words (the LIKE patterns of the search words as an array literal, e.g. {%haddad%,%amira%}), results (their count).
SELECT set_config('app.tenant_id', :tenant, false), set_config('app.user_id', :user, false), set_config('app.district_id', '', false);
SELECT c.id, t.slug, c.first_name, c.last_name, to_char(c.date_of_birth, 'YYYY-MM-DD'), c.gender, c.place_of_residence, c.social_area,
       c.residence_status, c.country_of_origin, c.languages, c.german_level, c.health_situation, c.household, c.youth_office_measures,
       c.jobcenter_measures, c.club_memberships, to_char(c.arrival_date, 'YYYY-MM-DD'), c.single_parent, c.unaccompanied_minor,
       c.family_with_barriers, c.extra::text, c.version, c.created_at,
       EXISTS (SELECT 1 FROM consents k WHERE k.client_id = c.id AND k.scope = 'case_management'
               AND (k.withdrawn_on IS NULL OR k.withdrawn_on > current_date) AND (k.expires_on IS NULL OR k.expires_on >= current_date))
FROM clients c JOIN tenants t ON t.id = c.tenant_id WHERE c.anonymised_at IS NULL
AND c.id IN (SELECT client_search_ids(:words::text[], 50::integer)) ORDER BY c.last_name, c.first_name, c.date_of_birth LIMIT 50;
SELECT app_end_read(jsonb_build_array(jsonb_build_object('tenant_id', :tenant::text, 'actor_id', :user::text, 'action', 'client.searched',
    'purpose', 'case_management', 'detail', jsonb_build_object('results', :results::text), 'client_address', '127.0.0.1')));
