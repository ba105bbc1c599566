import Foundation
import Logging
import PostgresNIO

/// The one seam every capability acts through: this identity, from this address, acting in its tenant (row-level
/// security holds), writing these audit events in the same transaction, with the capability's purpose. A capability
/// holds one, made for its purpose; the transaction commits the change and its audit entries together, or neither.
public struct TenantWork: Sendable {
    public let database: Database
    public let policy: Policy
    /// Why personal data is processed (`case_management`, `coordination`): every audit event without its own says this.
    public let purpose: String
    /// District staff read their district's tenants (accounts, to name committee members).
    let readsDistrict: Bool

    public init(database: Database, policy: Policy, purpose: String, readsDistrict: Bool = false) {
        self.database = database
        self.policy = policy
        self.purpose = purpose
        self.readsDistrict = readsDistrict
    }

    /// Case work: the tenant's clients, cases, referrals, conferences and reports.
    public static func caseManagement(_ database: Database, _ policy: Policy) -> TenantWork {
        TenantWork(database: database, policy: policy, purpose: "case_management")
    }

    /// The coordination layer: structural problems and committees, with the district's tenants readable for its staff.
    public static func coordination(_ database: Database, _ policy: Policy) -> TenantWork {
        TenantWork(database: database, policy: policy, purpose: "coordination", readsDistrict: true)
    }

    public var logger: Logger { database.logger }

    /// Runs `body` acting for the identity's tenant and user; the `audit` events it appends are written in the same transaction.
    func work<Result: Sendable>(
        _ identity: Identity,
        clientAddress: String?,
        _ body: (PostgresConnection, inout [AuditEvent]) async throws -> Result
    ) async throws -> Result {
        // A change request's Idempotency-Key is claimed by its first transaction, with the audit events.
        let claim = IdempotencyClaim.current?.take()
        do {
            return try await database.withTenant(identity.tenant.id, user: identity.userID, district: district(of: identity)) { connection in
                var events: [AuditEvent] = []
                let result = try await body(connection, &events)
                if let claim {
                    try await claim.claim(with: stamped(events, clientAddress: clientAddress), on: connection, logger: logger)
                } else {
                    try await AuditLog.record(stamped(events, clientAddress: clientAddress), on: connection, logger: logger)
                }
                return result
            }
        } catch {
            claim?.release()
            throw IdempotencyClaim.refusal(error) ?? error
        }
    }

    /// Runs `body`, which only reads, acting for the identity's tenant and user without a transaction of its own
    /// (`Database.reading`: three round trips for a one-statement read, sign-in from the identity cache, audit included);
    /// the `audit` events it appends are written as the read ends, before anything is returned.
    func read<Result: Sendable>(
        _ identity: Identity,
        clientAddress: String?,
        _ body: (PostgresConnection, inout [AuditEvent]) async throws -> Result
    ) async throws -> Result {
        try await database.reading(identity.tenant.id, user: identity.userID, district: district(of: identity)) { connection in
            var events: [AuditEvent] = []
            let result = try await body(connection, &events)
            return (result, stamped(events, clientAddress: clientAddress))
        }
    }

    private func district(of identity: Identity) -> UUID? {
        readsDistrict && identity.tenant.kind == "district" ? identity.tenant.id : nil
    }

    private func stamped(_ events: [AuditEvent], clientAddress: String?) -> [AuditEvent] {
        events.map { event in
            var event = event
            event.purpose = event.purpose ?? purpose
            event.clientAddress = clientAddress
            return event
        }
    }

    /// An audit event of the identity about one object.
    func event(_ action: String, _ identity: Identity, _ type: String, _ id: UUID, _ detail: [String: String] = [:]) -> AuditEvent {
        AuditEvent(action, tenant: identity.tenant.id, actor: identity.userID, objectType: type, objectID: id.uuidString, detail: detail)
    }
}
