import Foundation
import Logging
import PostgresNIO

/// The one way a tenant lets another see an object: a recorded row in `access_grants` that the
/// row-level security policies check (`app_holds_grant`). Granted and revoked in the grantor's transaction.
public enum AccessGrants {
    public enum Kind: String, Sendable {
        case referral, report, conference, precheck
    }

    /// Grants `grantee` sight of one object — all of its staff, only `person` of them, or only those who hold `role`
    /// while they act (conferences: a district asked to moderate grants its coordinators); referrals and conferences
    /// rest on the client's consent.
    @discardableResult
    static func grant(
        _ kind: Kind,
        object: UUID,
        to grantee: UUID,
        person: UUID? = nil,
        role: Role? = nil,
        consent: UUID?,
        by identity: Identity,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws -> UUID {
        let id = UUID()
        try await connection.query(
            """
            INSERT INTO access_grants (tenant_id, id, grantee_tenant_id, grantee_user_id, grantee_role, object_type, object_id, consent_id, granted_by)
            VALUES (\(identity.tenant.id), \(id), \(grantee), \(person), \(role?.rawValue), \(kind.rawValue), \(object), \(consent), \(identity.userID))
            """,
            logger: logger
        )
        return id
    }

    /// Revokes the grants that rest on a withdrawn consent — or, when the consent to case management
    /// itself is withdrawn, every grant on the client's referrals and conferences. Returns how many.
    /// What `revoke` would end, for the confirmation before it: each referral and conference with the stelle that loses its
    /// access, e.g. ("Verweisung an MBE – AWO (AWO Ennepe-Ruhr)", sent at), ("Fallkonferenz „Schule“ (AWO Ennepe-Ruhr)", at);
    /// a referral to the own tenant's counselling says so ("… (Beratung im eigenen Haus, VHS EN Süd)").
    static func ending(
        consent: UUID,
        client: UUID,
        everything: Bool,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws -> [(what: String, at: Date)] {
        let rows = try await connection.query(
            """
            SELECT 'Verweisung an ' || s.name || ' (' || CASE WHEN g.grantee_tenant_id = g.tenant_id THEN 'Beratung im eigenen Haus, ' ELSE '' END
                       || t.name || ')', r.sent_at
            FROM access_grants g JOIN referrals r ON r.id = g.object_id JOIN services s ON s.id = r.service_id
                JOIN tenants t ON t.id = g.grantee_tenant_id
            WHERE g.object_type = 'referral' AND g.revoked_at IS NULL AND (g.consent_id = \(consent) OR (\(everything) AND r.client_id = \(client)))
            UNION ALL
            SELECT 'Fallkonferenz „' || f.title || '“ (' || t.name || ')', f.scheduled_at
            FROM access_grants g JOIN case_conferences f ON f.id = g.object_id JOIN cases k ON k.id = f.case_id
                JOIN tenants t ON t.id = g.grantee_tenant_id
            WHERE g.object_type = 'conference' AND g.revoked_at IS NULL AND (g.consent_id = \(consent) OR (\(everything) AND k.client_id = \(client)))
            UNION ALL
            SELECT 'Vorprüfung ' || CASE p.kind WHEN 'naturalisation' THEN 'Einbürgerung' ELSE '§ ' || substr(p.kind, 9) END || ' (' || t.name || ')',
                p.sent_at
            FROM access_grants g JOIN abh_prechecks p ON p.id = g.object_id JOIN tenants t ON t.id = g.grantee_tenant_id
            WHERE g.object_type = 'precheck' AND g.revoked_at IS NULL AND (g.consent_id = \(consent) OR (\(everything) AND p.client_id = \(client)))
            ORDER BY 2
            """,
            logger: logger
        )
        var ending: [(what: String, at: Date)] = []
        for try await (what, at) in rows.decode((String, Date).self) { ending.append((what, at)) }
        return ending
    }

    static func revoke(
        consent: UUID,
        client: UUID,
        everything: Bool,
        by user: UUID,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws -> Int {
        try await connection.query(
            """
            UPDATE access_grants SET revoked_at = now(), revoked_by = \(user), revoke_reason = 'consent withdrawn'
            WHERE revoked_at IS NULL AND (consent_id = \(consent)
                OR (\(everything) AND object_type = 'referral' AND object_id IN (SELECT id FROM referrals WHERE client_id = \(client)))
                OR (\(everything) AND object_type = 'conference'
                    AND object_id IN (SELECT f.id FROM case_conferences f JOIN cases k ON k.id = f.case_id WHERE k.client_id = \(client)))
                OR (\(everything) AND object_type = 'precheck' AND object_id IN (SELECT id FROM abh_prechecks WHERE client_id = \(client))))
            RETURNING 1
            """,
            logger: logger
        ).collect().count
    }
}
