-- What PostgreSQL does for one GET /api/v1/cases ("my cases"), statement by statement, for pgbench:
-- the database's own floor for that request, without the HTTP server. Mirrors (the identity comes from the
-- server's IdentityCache: no statement while it listens) Database.reading
-- (act for the session, no transaction), CaseRecords.OpenCasesOfOwner and app_end_read (the audit entry, settings cleared); if those change, change this.
-- Variables, given with pgbench -D: tenant, user (uuid), hash (the token's SHA-256 as \x and hex).
SELECT set_config('app.tenant_id', :tenant, false), set_config('app.user_id', :user, false), set_config('app.district_id', '', false);
SELECT k.id, k.case_number, k.client_id, c.first_name || ' ' || c.last_name, k.owner_id, u.display_name, k.channel, k.phase, k.route, k.reason,
       to_char(k.next_review_on, 'YYYY-MM-DD'), to_char(k.opened_on, 'YYYY-MM-DD'), to_char(k.closed_on, 'YYYY-MM-DD'), k.closure_reason, k.version,
       (SELECT count(*)::integer FROM goals g WHERE g.tenant_id = k.tenant_id AND g.case_id = k.id AND g.outcome IS NULL AND g.review_on <= current_date)
FROM cases k JOIN clients c ON c.tenant_id = k.tenant_id AND c.id = k.client_id
JOIN users u ON u.tenant_id = k.tenant_id AND u.id = k.owner_id
WHERE k.owner_id = :user AND k.closed_on IS NULL ORDER BY k.next_review_on NULLS LAST, k.opened_on LIMIT 500;
SELECT app_end_read(jsonb_build_array(jsonb_build_object('tenant_id', :tenant::text, 'actor_id', :user::text, 'action', 'case.listed',
    'purpose', 'case_management', 'detail', '{"results":"55","scope":"mine"}'::jsonb, 'client_address', '127.0.0.1')));
