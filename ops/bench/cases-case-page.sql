-- What PostgreSQL does for one GET /api/v1/cases/ID (the case page's data), statement by statement, for pgbench:
-- the database's own floor for that request, without the HTTP server. Mirrors (the identity comes from the
-- server's IdentityCache: no statement while it listens) Database.reading (act for the session, no transaction),
-- CaseWork.caseView (CaseRecords.CaseViewByID: the case, its client, goals and timeline in one statement) and
-- app_end_read (the audit entry, settings cleared); if those change, change this.
-- Variables, given with pgbench -D: tenant, user, case, client (uuids; client: the case's), hash (the token's SHA-256 as \x and hex).
SELECT set_config('app.tenant_id', :tenant, false), set_config('app.user_id', :user, false), set_config('app.district_id', '', false);
SELECT k.id, k.case_number, k.client_id, c.first_name || ' ' || c.last_name, k.owner_id, u.display_name, k.channel, k.phase, k.route, k.reason,
       to_char(k.next_review_on, 'YYYY-MM-DD'), to_char(k.opened_on, 'YYYY-MM-DD'), to_char(k.closed_on, 'YYYY-MM-DD'), k.closure_reason, k.version,
       (SELECT count(*)::integer FROM goals g WHERE g.tenant_id = k.tenant_id AND g.case_id = k.id AND g.outcome IS NULL AND g.review_on <= current_date),
       c.id, t.slug, c.first_name, c.last_name, to_char(c.date_of_birth, 'YYYY-MM-DD'), c.gender, c.place_of_residence, c.social_area,
       c.residence_status, c.country_of_origin, c.languages, c.german_level, c.health_situation, c.household, c.youth_office_measures,
       c.jobcenter_measures, c.club_memberships, to_char(c.arrival_date, 'YYYY-MM-DD'), c.single_parent, c.unaccompanied_minor,
       c.family_with_barriers, c.extra::text, c.version, c.created_at,
       EXISTS (SELECT 1 FROM consents k WHERE k.client_id = c.id AND k.scope = 'case_management'
               AND (k.withdrawn_on IS NULL OR k.withdrawn_on > current_date) AND (k.expires_on IS NULL OR k.expires_on >= current_date)),
       c.residence_title, c.residence_paragraph, to_char(c.residence_valid_until, 'YYYY-MM-DD'),
       (SELECT coalesce(json_agg(json_build_object('id', g.id, 'area', g.area, 'text', g.text, 'agreedOn', to_char(g.agreed_on, 'YYYY-MM-DD'),
                                                   'reviewOn', to_char(g.review_on, 'YYYY-MM-DD'), 'outcome', g.outcome, 'outcomeNote', g.outcome_note,
                                                   'reviewedOn', to_char(g.reviewed_on, 'YYYY-MM-DD'), 'version', g.version)
                                 ORDER BY g.review_on, g.created_at), '[]')
        FROM goals g WHERE g.tenant_id = k.tenant_id AND g.case_id = k.id)::text,
       (SELECT coalesce(json_agg(json_build_object('id', e.id, 'at', extract(epoch FROM e.occurred_at), 'actor', u.display_name, 'kind', e.kind,
                                                   'text', e.text, 'standInFor', a.display_name) ORDER BY e.id DESC), '[]')
        FROM case_events e LEFT JOIN users u ON u.id = e.actor_id LEFT JOIN users a ON a.id = e.stand_in_for
        WHERE e.case_id = k.id)::text
FROM cases k JOIN clients c ON c.tenant_id = k.tenant_id AND c.id = k.client_id
JOIN users u ON u.tenant_id = k.tenant_id AND u.id = k.owner_id JOIN tenants t ON t.id = c.tenant_id
WHERE k.id = :case;
SELECT app_end_read(jsonb_build_array(jsonb_build_object('tenant_id', :tenant::text, 'actor_id', :user::text, 'action', 'case.read',
    'object_type', 'case', 'object_id', :case::text, 'purpose', 'case_management', 'detail', '{}'::jsonb, 'client_address', '127.0.0.1')));
