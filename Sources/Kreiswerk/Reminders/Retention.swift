import Foundation
import Logging
import PostgresNIO

/// The district's retention period: a client whose cases all closed longer ago than it is
/// anonymised. Personal fields go (names, exact date of birth, free texts); what the figures
/// need stays (year of birth, gender, town, origin, languages, German level, target groups,
/// phases, channels, dates of the cases). Each anonymisation is in the audit trail.
enum Retention {
    /// Clients anonymised per run and tenant at most; the next day's sweep goes on with the rest.
    static let batch = 1000
    static let placeholder = "anonymisiert"

    static func anonymise(
        tenant: UUID,
        closedBefore day: String,
        months: Int,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws -> Int {
        let clients = try await connection.query(
            """
            WITH due AS (
                SELECT c.id FROM clients c
                WHERE c.tenant_id = \(tenant) AND c.anonymised_at IS NULL
                  AND EXISTS (SELECT 1 FROM cases k WHERE k.tenant_id = c.tenant_id AND k.client_id = c.id)
                  AND NOT EXISTS (SELECT 1 FROM cases k WHERE k.tenant_id = c.tenant_id AND k.client_id = c.id
                                  AND (k.closed_on IS NULL OR k.closed_on >= \(day)::date - make_interval(months => \(months)::integer)))
                LIMIT \(batch)
            )
            UPDATE clients c SET first_name = \(placeholder), last_name = \(placeholder),
                date_of_birth = date_trunc('year', c.date_of_birth)::date, residence_status = NULL, health_situation = NULL,
                household = NULL, youth_office_measures = NULL, jobcenter_measures = NULL, club_memberships = NULL, extra = '{}',
                arrival_date = date_trunc('month', c.arrival_date)::date, anonymised_at = now(), updated_at = now(), version = c.version + 1
            FROM due WHERE c.tenant_id = \(tenant) AND c.id = due.id
            RETURNING c.id
            """,
            logger: logger
        ).collect().map { try $0.decode(UUID.self) }
        guard !clients.isEmpty else { return 0 }
        let statements: [PostgresQuery] = [
            // Only closed cases: a case opened for the client meanwhile keeps its texts.
            "UPDATE cases SET reason = NULL, closure_reason = NULL WHERE tenant_id = \(tenant) AND client_id = ANY(\(clients)) AND closed_on IS NOT NULL",
            """
            UPDATE case_events e SET text = '' FROM cases k
            WHERE e.tenant_id = \(tenant) AND k.tenant_id = e.tenant_id AND k.id = e.case_id AND k.client_id = ANY(\(clients)) AND k.closed_on IS NOT NULL
            """,
            """
            UPDATE goals g SET text = \(placeholder), outcome_note = NULL FROM cases k
            WHERE g.tenant_id = \(tenant) AND k.tenant_id = g.tenant_id AND k.id = g.case_id AND k.client_id = ANY(\(clients)) AND k.closed_on IS NOT NULL
            """,
            """
            UPDATE referrals SET first_name = \(placeholder), last_name = \(placeholder), date_of_birth = date_trunc('year', date_of_birth)::date,
                place_of_residence = NULL, reason = \(placeholder)
            WHERE tenant_id = \(tenant) AND client_id = ANY(\(clients))
            """,
            """
            UPDATE case_conferences f SET summary = \(placeholder), agenda = '', minutes = '' FROM cases k
            WHERE f.tenant_id = \(tenant) AND k.tenant_id = f.tenant_id AND k.id = f.case_id AND k.client_id = ANY(\(clients)) AND k.closed_on IS NOT NULL
            """,
            """
            UPDATE conference_action_items i SET text = \(placeholder) FROM case_conferences f JOIN cases k ON k.tenant_id = f.tenant_id AND k.id = f.case_id
            WHERE i.tenant_id = \(tenant) AND f.id = i.conference_id AND k.client_id = ANY(\(clients)) AND k.closed_on IS NOT NULL
            """,
        ]
        for statement in statements {
            _ = try await connection.query(statement, logger: logger).collect()
        }
        for client in clients {
            try await AuditLog.record(
                AuditEvent(
                    "client.anonymised",
                    tenant: tenant,
                    actor: nil,
                    objectType: "client",
                    objectID: client.uuidString,
                    purpose: "retention",
                    detail: ["retention_months": "\(months)", "by": "scheduler"]
                ),
                on: connection,
                logger: logger
            )
        }
        logger.info("retention anonymised clients", metadata: ["tenant": "\(tenant)", "clients": "\(clients.count)"])
        return clients.count
    }
}
