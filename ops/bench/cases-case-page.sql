-- What PostgreSQL does for one GET /api/v1/cases/ID (the case page's data), statement by statement, for pgbench:
-- the database's own floor for that request, without the HTTP server. Mirrors (the identity comes from the
-- server's IdentityCache: no statement while it listens) Database.reading (act for the session, no transaction),
-- CaseWork.caseView (CaseRecords.CaseByID, ClientRecords.ClientByID, CaseRecords.GoalsOfCase,
-- CaseRecords.TimelineOfCase) and app_end_read (the audit entry, settings cleared); if those change, change this.
-- Variables, given with pgbench -D: tenant, user, case, client (uuids; client: the case's), hash (the token's SHA-256 as \x and hex).
SELECT set_config('app.tenant_id', :tenant, false), set_config('app.user_id', :user, false), set_config('app.district_id', '', false);
SELECT k.id, k.case_number, k.client_id, c.first_name || ' ' || c.last_name, k.owner_id, u.display_name, k.channel, k.phase, k.route, k.reason,
       to_char(k.next_review_on, 'YYYY-MM-DD'), to_char(k.opened_on, 'YYYY-MM-DD'), to_char(k.closed_on, 'YYYY-MM-DD'), k.closure_reason, k.version,
       (SELECT count(*)::integer FROM goals g WHERE g.tenant_id = k.tenant_id AND g.case_id = k.id AND g.outcome IS NULL AND g.review_on <= current_date)
FROM cases k JOIN clients c ON c.tenant_id = k.tenant_id AND c.id = k.client_id
JOIN users u ON u.tenant_id = k.tenant_id AND u.id = k.owner_id
WHERE k.id = :case;
SELECT c.id, t.slug, c.first_name, c.last_name, to_char(c.date_of_birth, 'YYYY-MM-DD'), c.gender, c.place_of_residence, c.social_area,
       c.residence_status, c.country_of_origin, c.languages, c.german_level, c.health_situation, c.household, c.youth_office_measures,
       c.jobcenter_measures, c.club_memberships, to_char(c.arrival_date, 'YYYY-MM-DD'), c.single_parent, c.unaccompanied_minor,
       c.family_with_barriers, c.extra::text, c.version, c.created_at,
       EXISTS (SELECT 1 FROM consents k WHERE k.client_id = c.id AND k.scope = 'case_management'
               AND (k.withdrawn_on IS NULL OR k.withdrawn_on > current_date) AND (k.expires_on IS NULL OR k.expires_on >= current_date))
FROM clients c JOIN tenants t ON t.id = c.tenant_id WHERE c.id = :client;
SELECT id, area, text, to_char(agreed_on, 'YYYY-MM-DD'), to_char(review_on, 'YYYY-MM-DD'), outcome, outcome_note,
       to_char(reviewed_on, 'YYYY-MM-DD'), version
FROM goals WHERE case_id = :case ORDER BY review_on, created_at;
SELECT e.id, e.occurred_at, u.display_name, e.kind, e.text FROM case_events e LEFT JOIN users u ON u.id = e.actor_id
WHERE e.case_id = :case ORDER BY e.id DESC;
SELECT app_end_read(jsonb_build_array(jsonb_build_object('tenant_id', :tenant::text, 'actor_id', :user::text, 'action', 'case.read',
    'object_type', 'case', 'object_id', :case::text, 'purpose', 'case_management', 'detail', '{}'::jsonb, 'client_address', '127.0.0.1')));
