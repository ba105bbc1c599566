import Foundation
import PostgresNIO

extension CaseWork {
    /// Runs `body` acting for the identity's tenant — for district staff with their district's tenants
    /// readable (accounts, to name committee members) — and writes its audit events with the purpose
    /// `coordination` in the same transaction.
    func coordinate<Result: Sendable>(
        _ identity: Identity, clientAddress: String?, _ body: (PostgresConnection, inout [AuditEvent]) async throws -> Result
    ) async throws -> Result {
        let district = identity.tenant.kind == "district" ? identity.tenant.id : nil
        return try await database.withTenant(identity.tenant.id, user: identity.userID, district: district) { connection in
            var events: [AuditEvent] = []
            let result = try await body(connection, &events)
            for var event in events {
                event.purpose = "coordination"
                event.clientAddress = clientAddress
                try await AuditLog.record(event, on: connection, logger: logger)
            }
            return result
        }
    }
}
