import Foundation
import Logging
import PostgresNIO

/// Grants that rest on a consent that was withdrawn or has run out are revoked. Withdrawing
/// revokes at once (`AccessGrants.revoke`); this catches expiry, and anything left over.
enum ConsentExpiry {
    /// Revokes, in the acting tenant, every live grant whose consent no longer holds on `day`. A lapsed
    /// consent to case management takes with it the grants on the client's referrals and conferences that
    /// were given before it lapsed — unless the client has given a consent to case management that holds now.
    static func revokeGrants(tenant: UUID, day: String, on connection: PostgresConnection, logger: Logger) async throws -> Int {
        let rows = try await connection.query(
            """
            WITH lapsed AS (
                SELECT c.id, c.client_id, c.scope,
                       CASE WHEN c.withdrawn_on <= \(day)::date THEN 'consent withdrawn' ELSE 'consent expired' END AS reason,
                       least(c.withdrawn_on, c.expires_on + 1) AS lapsed_on,
                       EXISTS (SELECT 1 FROM consents a
                               WHERE a.tenant_id = c.tenant_id AND a.client_id = c.client_id AND a.scope = 'case_management'
                                 AND (a.withdrawn_on IS NULL OR a.withdrawn_on > \(day)::date)
                                 AND (a.expires_on IS NULL OR a.expires_on >= \(day)::date)) AS renewed
                FROM consents c
                WHERE c.tenant_id = \(tenant) AND (c.withdrawn_on <= \(day)::date OR c.expires_on < \(day)::date)
            )
            UPDATE access_grants g SET revoked_at = now(), revoke_reason = l.reason
            FROM lapsed l
            WHERE g.tenant_id = \(tenant) AND g.revoked_at IS NULL
              AND (g.consent_id = l.id
                   OR (l.scope = 'case_management' AND NOT l.renewed AND g.granted_at < l.lapsed_on AND g.object_type = 'referral'
                       AND g.object_id IN (SELECT r.id FROM referrals r WHERE r.tenant_id = \(tenant) AND r.client_id = l.client_id))
                   OR (l.scope = 'case_management' AND NOT l.renewed AND g.granted_at < l.lapsed_on AND g.object_type = 'conference'
                       AND g.object_id IN (SELECT f.id FROM case_conferences f JOIN cases k ON k.tenant_id = f.tenant_id AND k.id = f.case_id
                                           WHERE f.tenant_id = \(tenant) AND k.client_id = l.client_id)))
            RETURNING g.id, g.object_type, g.object_id, l.reason
            """,
            logger: logger
        )
        var revoked = 0
        for try await (grant, objectType, objectID, reason) in rows.decode((UUID, String, UUID, String).self) {
            revoked += 1
            try await AuditLog.record(
                AuditEvent(
                    "grant.revoked",
                    tenant: tenant,
                    actor: nil,
                    objectType: objectType,
                    objectID: objectID.uuidString,
                    purpose: "consent",
                    detail: ["grant": grant.uuidString, "reason": reason, "by": "scheduler"]
                ),
                on: connection,
                logger: logger
            )
        }
        return revoked
    }
}
