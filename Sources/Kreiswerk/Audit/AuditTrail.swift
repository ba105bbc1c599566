import Foundation

/// Reading the audit trail (`GET /api/v1/audit`, `/protokoll`): tenant administrators read their tenant, district
/// coordinators their district, platform administrators all.
struct AuditTrail: Sendable {
    let database: Database
    let policy: Policy
    let users: UserAdministration

    /// The newest `limit` entries the identity may read, optionally of one tenant (404 outside its scope), in one transaction.
    func entries(for identity: Identity, tenant slug: String?, limit: Int) async throws -> [AuditLog.Entry] {
        // Platform administrators read from the platform tenant, whose policy shows every entry.
        let district = policy.readableDistrict(of: identity, for: .readAudit)
        return try await database.withTenant(identity.tenant.id, user: identity.userID, district: district) { connection in
            let target = slug == nil ? nil : try await users.target(slug, for: identity, .readAudit, on: connection)
            return try await AuditLog.entries(tenant: target?.id, limit: limit, on: connection, logger: database.logger)
        }
    }
}
