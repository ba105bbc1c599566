import Foundation
import PostgresNIO

/// A district's minimum documentation standard as people read and set it: one transaction per call, the district
/// found within the identity's scope (404 outside it), setting it the coordinators' (403 for everyone else), audited.
struct DocumentationStandards: Sendable {
    let database: Database
    let policy: Policy

    func standard(ofDistrict slug: String, by identity: Identity) async throws -> DocumentationStandard {
        try await database.withTransaction { connection in
            let district = try await district(slug, identity, .viewDocumentationStandard, on: connection)
            return try await DocumentationStandard.of(district: district.id, on: connection, logger: database.logger)
        }
    }

    func set(
        _ requirements: [String: [String]],
        ofDistrict slug: String,
        by identity: Identity,
        clientAddress: String?
    ) async throws
        -> DocumentationStandard
    {
        try await database.withTenant(identity.tenant.id, user: identity.userID) { connection in
            let district = try await district(slug, identity, .setDocumentationStandard, on: connection)
            try await DocumentationStandard.set(requirements, district: district.id, by: identity.userID, on: connection, logger: database.logger)
            try await AuditLog.record(
                AuditEvent(
                    "district.documentation_standard_set",
                    by: identity,
                    objectType: "district",
                    objectID: district.slug,
                    detail: requirements.mapValues { $0.joined(separator: ",") },
                    clientAddress: clientAddress
                ),
                on: connection,
                logger: database.logger
            )
            return try await DocumentationStandard.of(district: district.id, on: connection, logger: database.logger)
        }
    }

    /// The district of `slug` if the identity's scope for `permission` reaches it.
    private func district(_ slug: String, _ identity: Identity, _ permission: Permission, on connection: PostgresConnection) async throws -> TenantRef
    {
        let tenant = try await TenantDirectory.find(slug: slug, on: connection, logger: database.logger)
        guard let tenant, tenant.kind == "district", policy.allows(identity, .viewDocumentationStandard, in: tenant) else {
            throw DomainError.notFound("Einen Kreis '\(slug)' gibt es in Ihrem Bereich nicht.")
        }
        if permission == .setDocumentationStandard, !policy.allows(identity, permission, in: tenant) {
            throw DomainError.forbidden("Den Dokumentationsstandard legen die Koordinierungsstellen des Kreises fest.")
        }
        return tenant
    }
}
