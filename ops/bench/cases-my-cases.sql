-- What PostgreSQL does for one GET /api/v1/cases ("my cases"), statement by statement, for pgbench:
-- the database's own floor for that request, without the HTTP server. Mirrors (the identity comes from the
-- server's IdentityCache: no statement while it listens) Database.actAs, CaseRecords.OpenCasesOfOwner and AuditLog.record (one INSERT); if those change, change this.
-- Variables, given with pgbench -D: tenant, user (uuid), hash (the token's SHA-256 as \x and hex).
BEGIN;
SELECT set_config('app.tenant_id', :tenant, true), set_config('app.user_id', :user, true), set_config('app.district_id', '', true);
SELECT k.id, k.case_number, k.client_id, c.first_name || ' ' || c.last_name, k.owner_id, u.display_name, k.channel, k.phase, k.route, k.reason,
       to_char(k.next_review_on, 'YYYY-MM-DD'), to_char(k.opened_on, 'YYYY-MM-DD'), to_char(k.closed_on, 'YYYY-MM-DD'), k.closure_reason, k.version,
       (SELECT count(*)::integer FROM goals g WHERE g.tenant_id = k.tenant_id AND g.case_id = k.id AND g.outcome IS NULL AND g.review_on <= current_date)
FROM cases k JOIN clients c ON c.tenant_id = k.tenant_id AND c.id = k.client_id
JOIN users u ON u.tenant_id = k.tenant_id AND u.id = k.owner_id
WHERE k.owner_id = :user AND k.closed_on IS NULL ORDER BY k.next_review_on NULLS LAST, k.opened_on LIMIT 500;
INSERT INTO audit_log (tenant_id, actor_id, action, purpose, detail, client_address)
VALUES (:tenant, :user, 'case.listed', 'case_management', '{"results":"55","scope":"mine"}', '127.0.0.1');
COMMIT;
