import Foundation
import Logging
import PostgresNIO

/// Settings a tenant administrator keeps for their tenant: whether every account needs a second factor.
public struct TenantSettings: Sendable {
    let database: Database
    let policy: Policy

    public init(database: Database, policy: Policy) {
        self.database = database
        self.policy = policy
    }

    /// Whether every account of the tenant `slug` needs a second factor; 404 outside the identity's scope.
    public func secondFactorRequired(of slug: String, for identity: Identity) async throws -> Bool {
        try await inTenant(slug, for: identity) { tenant, connection in
            try await connection.query("SELECT second_factor_required FROM tenant_settings WHERE tenant_id = \(tenant.id)", logger: database.logger)
                .collect().first?.decode(Bool.self) ?? false
        }
    }

    public func setSecondFactorRequired(_ required: Bool, of slug: String, by identity: Identity, clientAddress: String?) async throws {
        try await inTenant(slug, for: identity) { tenant, connection in
            // Whoever switches it on must not lock themselves out of the page that switches it.
            if required, identity.tenant.id == tenant.id, !identity.secondFactorEnabled {
                throw InvalidInput(
                    field: "second_factor_required",
                    "Richten Sie zuerst für Ihr eigenes Konto einen zweiten Faktor ein (Mein Konto); danach können Sie ihn für alle verlangen."
                )
            }
            try await connection.query(
                """
                INSERT INTO tenant_settings (tenant_id, second_factor_required) VALUES (\(tenant.id), \(required))
                ON CONFLICT (tenant_id) DO UPDATE SET second_factor_required = excluded.second_factor_required, updated_at = now()
                """,
                logger: database.logger
            )
            try await AuditLog.record(
                AuditEvent(
                    "tenant.security_changed",
                    by: identity,
                    in: tenant.id,
                    objectType: "tenant",
                    objectID: tenant.slug,
                    detail: ["second_factor_required": "\(required)"],
                    clientAddress: clientAddress
                ),
                on: connection,
                logger: database.logger
            )
        }
    }

    /// Runs `body` in one transaction that finds the tenant of `slug` (404 if the identity may not manage its security)
    /// and then acts for it.
    private func inTenant<Result: Sendable>(
        _ slug: String,
        for identity: Identity,
        _ body: (TenantRef, PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await database.withTransaction { connection in
            let tenant = try await TenantDirectory.find(slug: slug, on: connection, logger: database.logger)
            guard let tenant, policy.allows(identity, .manageTenantSecurity, in: tenant) else {
                throw DomainError.notFound("Einen Mandanten '\(slug)' gibt es in Ihrem Bereich nicht.")
            }
            try await connection.actAs(tenant: tenant.id, user: identity.userID, logger: database.logger)
            return try await body(tenant, connection)
        }
    }
}
