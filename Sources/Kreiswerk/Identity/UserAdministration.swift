import Foundation
import Logging
import PostgresNIO

/// Account administration as the API, the web pages and the command line share it:
/// who may see and change which accounts is asked of the `Policy`, and row-level security
/// enforces the same below it.
public struct UserAdministration: Sendable {
    let database: Database
    let policy: Policy
    let invitations: Invitations
    /// The address the invitation links point to, e.g. https://kreiswerk.en-kreis.de
    let publicURL: String

    public init(database: Database, policy: Policy, invitations: Invitations, publicURL: String) {
        self.database = database
        self.policy = policy
        self.invitations = invitations
        self.publicURL = publicURL
    }

    /// A new account and its one-time invitation link.
    public struct Invited: Sendable, Encodable {
        public var user: User
        public var invitationURL: String
        public var invitationExpiresAt: Date

        enum CodingKeys: String, CodingKey {
            case user
            case invitationURL = "invitation_url", invitationExpiresAt = "invitation_expires_at"
        }
    }

    /// Runs `body` in a transaction acting as `identity` towards `target`: a platform administrator acts
    /// as the target tenant itself; everyone else acts as their own tenant, with their district readable
    /// when the policy gives them district scope for `permission`.
    func withScope<Result: Sendable>(
        _ identity: Identity, for permission: Permission, target: TenantRef?, _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        if let target, policy.scope(of: identity, for: permission) == .all {
            return try await database.withTenant(target.id, user: identity.userID, body)
        }
        return try await database.withTenant(
            identity.tenant.id, user: identity.userID, district: policy.readableDistrict(of: identity, for: permission), body)
    }

    /// The tenant named by `slug` if the identity may do `permission` in it; 404 otherwise, so that
    /// nobody learns what lies outside their scope. nil slug: the identity's own tenant.
    public func target(_ slug: String?, for identity: Identity, _ permission: Permission) async throws -> TenantRef {
        guard let slug, !slug.isEmpty else { return identity.tenant }
        let tenant = try await database.withTransaction { try await TenantDirectory.find(slug: slug, on: $0, logger: database.logger) }
        guard let tenant, policy.allows(identity, permission, in: tenant) else {
            throw DomainError.notFound("Einen Mandanten '\(slug)' gibt es in Ihrem Bereich nicht.")
        }
        return tenant
    }

    /// Accounts of `slug` (or, without one, of the identity's own scope: their tenant, or their district).
    public func list(by identity: Identity, tenant slug: String?) async throws -> [User] {
        let target = slug == nil ? nil : try await target(slug, for: identity, .viewUsers)
        return try await withScope(identity, for: .viewUsers, target: target) { connection in
            try await Accounts.list(tenant: target?.id, on: connection, logger: database.logger)
        }
    }

    public func find(by identity: Identity, id: UUID) async throws -> User {
        // Platform administrators act as the account's own tenant, which the platform may look up.
        var target: TenantRef?
        if policy.scope(of: identity, for: .viewUsers) == .all {
            target = try await database.withTenant(TenantRef.platformID, user: identity.userID) { connection in
                guard let tenant = try await connection.query("SELECT platform_user_tenant(\(id))", logger: database.logger).collect().first?.decode(UUID?.self)
                else { return nil }
                return try await TenantDirectory.find(id: tenant, on: connection, logger: database.logger)
            }
        }
        let user = try await withScope(identity, for: .viewUsers, target: target) { try await Accounts.find(id, on: $0, logger: database.logger) }
        guard let user else { throw DomainError.notFound("Ein Konto mit dieser Kennung gibt es nicht.") }
        return user
    }

    /// Creates an account without a password in `slug` (default: the identity's tenant) and an invitation to set one.
    public func create(
        by identity: Identity, tenant slug: String?, email: String, displayName: String, roles: Set<Role>, clientAddress: String?
    ) async throws -> Invited {
        let target = try await target(slug, for: identity, .manageUsers)
        guard policy.allows(identity, .manageUsers, in: target) else {
            throw DomainError.forbidden("Ihre Rolle erlaubt nicht, Konten in \(target.name) anzulegen.")
        }
        try checkGrantable(roles, in: target, by: identity)
        return try await database.withTenant(target.id, user: identity.userID) { connection in
            let user = try await Accounts.create(
                tenant: target.id, email: email, displayName: displayName, roles: roles, passwordHash: nil, on: connection, logger: database.logger)
            let (secret, expires) = try await invitations.create(tenant: target.id, user: user.id, by: identity.userID, on: connection)
            try await AuditLog.record(
                AuditEvent(
                    "user.created", by: identity, in: target.id, objectType: "user", objectID: user.id.uuidString,
                    detail: ["roles": user.roles.map(\.rawValue).joined(separator: ",")], clientAddress: clientAddress),
                on: connection, logger: database.logger)
            return Invited(user: user, invitationURL: invitationURL(secret), invitationExpiresAt: expires)
        }
    }

    public func invitationURL(_ secret: Secret) -> String { "\(publicURL)/einladung/\(secret.value)" }

    /// Changes roles, status or name of an account, if it is still at `version`.
    public func update(by identity: Identity, id: UUID, version: Int, changes: UserChanges, clientAddress: String?) async throws -> User {
        let current = try await find(by: identity, id: id)
        let tenant = try await database.withTransaction { try await TenantDirectory.find(slug: current.tenant, on: $0, logger: database.logger) }
        guard let tenant, policy.allows(identity, .manageUsers, in: tenant) else {
            throw DomainError.forbidden("Sie dürfen die Konten von \(tenant?.name ?? current.tenant) sehen, aber nicht ändern.")
        }
        if let roles = changes.roles { try checkGrantable(roles, in: tenant, by: identity) }
        if id == identity.userID, changes.active == false || (changes.roles.map { !$0.contains(.tenantAdmin) && !$0.contains(.platformAdmin) } ?? false) {
            throw InvalidInput(field: id == identity.userID && changes.active == false ? "active" : "roles",
                               "Sie können sich nicht selbst deaktivieren oder Ihre eigene Administrationsrolle entziehen; bitten Sie eine andere Administration darum.")
        }
        return try await database.withTenant(tenant.id, user: identity.userID) { connection in
            let (before, after) = try await Accounts.update(id, version: version, changes: changes, on: connection, logger: database.logger)
            for event in Self.events(before: before, after: after) {
                try await AuditLog.record(
                    AuditEvent(event.action, by: identity, in: tenant.id, objectType: "user", objectID: id.uuidString, detail: event.detail,
                               clientAddress: clientAddress),
                    on: connection, logger: database.logger)
            }
            return after
        }
    }

    static func events(before: User, after: User) -> [(action: String, detail: [String: String])] {
        var events: [(String, [String: String])] = []
        if before.roles != after.roles {
            events.append(("user.roles_changed", ["from": before.roles.map(\.rawValue).joined(separator: ","), "to": after.roles.map(\.rawValue).joined(separator: ",")]))
        }
        if before.active != after.active { events.append((after.active ? "user.reactivated" : "user.deactivated", [:])) }
        if before.displayName != after.displayName { events.append(("user.renamed", [:])) }
        return events
    }

    /// Platform administration exists only in the platform tenant, and the district roles only in a district;
    /// only platform administrators make platform administrators.
    func checkGrantable(_ roles: Set<Role>, in tenant: TenantRef, by identity: Identity) throws {
        if roles.contains(.platformAdmin) && (tenant.kind != "platform" || !identity.has(.platformAdmin)) {
            throw InvalidInput(field: "roles", "Die Rolle Plattform-Administration gibt es nur im Betrieb, vergeben von der Plattform-Administration.")
        }
        if tenant.kind == "platform" && roles != [.platformAdmin] {
            throw InvalidInput(field: "roles", "Im Betrieb gibt es nur die Rolle Plattform-Administration.")
        }
        let districtRoles: Set<Role> = [.districtCoordinator, .districtAssistant]
        if !roles.isDisjoint(with: districtRoles) && tenant.kind != "district" {
            throw InvalidInput(field: "roles", "Koordinierungsstelle und Assistenz gibt es nur in einem Kreis, nicht in \(tenant.name).")
        }
    }
}
