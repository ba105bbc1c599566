import Foundation

/// The tenants an identity may see (`TenantDirectory.visible`), as the start page, a tenant's page and the API list them.
struct VisibleTenants: Sendable {
    let database: Database
    let policy: Policy

    func list(for identity: Identity) async throws -> [TenantDirectory.Summary] {
        try await database.withTransaction { try await TenantDirectory.visible(to: identity, policy: policy, on: $0, logger: database.logger) }
    }

    /// One of them; 404 for a tenant outside the identity's view, as for one that does not exist.
    func find(_ slug: String, for identity: Identity) async throws -> TenantDirectory.Summary {
        guard let tenant = try await list(for: identity).first(where: { $0.slug == slug }) else {
            throw DomainError.notFound("Einen Mandanten '\(slug)' gibt es nicht.")
        }
        return tenant
    }

    /// A tenant's page: the file-held fields of one visible tenant, in one transaction; 404 outside the identity's view.
    func detail(_ slug: String, for identity: Identity) async throws -> TenantDirectory.Detail {
        try await database.withTransaction { connection in
            let visible = try await TenantDirectory.visible(to: identity, policy: policy, on: connection, logger: database.logger)
            guard let summary = visible.first(where: { $0.slug == slug }) else {
                throw DomainError.notFound("Einen Mandanten '\(slug)' gibt es nicht.")
            }
            return try await TenantDirectory.detail(of: summary, user: identity.userID, on: connection, logger: database.logger)
        }
    }

    /// The start page: the tenants, how far the identity sees, and what it may do (the rules its routes are guarded by).
    struct Start: Sendable {
        var tenants: [TenantDirectory.Summary]
        var scope: Scope
        var mayOnboard: Bool
        var mayWorkCases: Bool
    }

    func start(for identity: Identity) async throws -> Start {
        Start(
            tenants: try await list(for: identity),
            scope: policy.scope(of: identity, for: .viewTenants),
            mayOnboard: policy.allows(identity, .onboardTenants),
            mayWorkCases: policy.allows(identity, .workCases)
        )
    }
}
