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

    /// Makes the rest of the connection's transaction act as `identity` towards `target`: a platform administrator acts
    /// as the target tenant itself; everyone else acts as their own tenant, with their district readable when the policy
    /// gives them district scope for `permission`.
    func actInScope(_ identity: Identity, for permission: Permission, target: TenantRef?, on connection: PostgresConnection) async throws {
        if let target, policy.scope(of: identity, for: permission) == .all {
            return try await connection.actAs(tenant: target.id, user: identity.userID, logger: database.logger)
        }
        try await connection.actAs(
            tenant: identity.tenant.id,
            user: identity.userID,
            district: policy.readableDistrict(of: identity, for: permission),
            logger: database.logger
        )
    }

    /// The tenant named by `slug` if the identity may do `permission` in it; 404 otherwise, so that
    /// nobody learns what lies outside their scope. nil slug: the identity's own tenant.
    public func target(_ slug: String?, for identity: Identity, _ permission: Permission) async throws -> TenantRef {
        guard let slug, !slug.isEmpty else { return identity.tenant }
        return try await database.withTransaction { try await target(slug, for: identity, permission, on: $0) }
    }

    /// `target`, in the connection's transaction (the tenant catalogue reads the same whoever the transaction acts as).
    func target(_ slug: String?, for identity: Identity, _ permission: Permission, on connection: PostgresConnection) async throws -> TenantRef {
        guard let slug, !slug.isEmpty else { return identity.tenant }
        let tenant = try await TenantDirectory.find(slug: slug, on: connection, logger: database.logger)
        guard let tenant, policy.allows(identity, permission, in: tenant) else {
            throw DomainError.notFound("Einen Mandanten '\(slug)' gibt es in Ihrem Bereich nicht.")
        }
        return tenant
    }

    /// Accounts of `slug` (or, without one, of the identity's own scope: their tenant, or their district).
    public func list(by identity: Identity, tenant slug: String?) async throws -> [User] {
        try await database.withTransaction { connection in
            let target = slug == nil ? nil : try await target(slug, for: identity, .viewUsers, on: connection)
            try await actInScope(identity, for: .viewUsers, target: target, on: connection)
            return try await Accounts.list(tenant: target?.id, on: connection, logger: database.logger)
        }
    }

    /// An account on the users page, with what the viewer may change of it.
    public struct Managed: Sendable {
        public var user: User
        /// nil for a tenant that is no longer active.
        public var tenant: TenantRef?
        /// The roles the viewer may set on this account (its tenant's kind has them, the viewer may grant them).
        /// Empty for the viewer's own account: nobody changes their own roles.
        public var grantable: [Role]
        /// The viewer may activate, deactivate or rename it (and send its invitation again, or withdraw it).
        public var mayChangeStatus: Bool
        /// Where its invitation stands; nil for an account that accepted one (or was made with a password).
        public var invitation: Invitations.State? = nil
    }

    /// Accounts as `list` (of `target`, or of the identity's scope), each with what `identity` may change of it, in the
    /// connection's transaction, which acts in the identity's scope.
    func managed(by identity: Identity, target: TenantRef?, on connection: PostgresConnection) async throws -> [Managed] {
        let canManage = policy.allows(identity, .manageUsers)
        let users = try await Accounts.list(tenant: target?.id, on: connection, logger: database.logger)
        var tenants: [String: TenantRef] = [:]
        for slug in Set(users.map(\.tenant)) { tenants[slug] = try await TenantDirectory.find(slug: slug, on: connection, logger: database.logger) }
        let invited = try await invitations.states(of: users.map(\.id), on: connection)
        return users.map { user in
            // An account of a tenant that was deactivated is listed, and changed by nobody here.
            let tenant = tenants[user.tenant]
            let manages = canManage && tenant.map { policy.allows(identity, .manageUsers, in: $0) } == true && user.id != identity.userID
            return Managed(
                user: user,
                tenant: tenant,
                grantable: manages ? tenant.map { policy.grantableRoles(in: $0, by: identity) } ?? [] : [],
                mayChangeStatus: manages && tenant.map { policy.administersAccounts(of: $0, actor: identity) } == true,
                invitation: invited[user.id]
            )
        }
    }

    public func find(by identity: Identity, id: UUID) async throws -> User {
        try await database.withTransaction { try await find(id, by: identity, on: $0) }
    }

    /// The account `id` as the identity may see it, in the connection's transaction, which then acts in the identity's scope.
    func find(_ id: UUID, by identity: Identity, on connection: PostgresConnection) async throws -> User {
        // Platform administrators act as the account's own tenant, which the platform may look up.
        var target: TenantRef?
        if policy.scope(of: identity, for: .viewUsers) == .all {
            try await connection.actAs(tenant: TenantRef.platformID, user: identity.userID, logger: database.logger)
            if let tenant = try await connection.query("SELECT platform_user_tenant(\(id))", logger: database.logger).collect().first?.decode(
                UUID?.self
            ) {
                target = try await TenantDirectory.find(id: tenant, on: connection, logger: database.logger)
            }
        }
        try await actInScope(identity, for: .viewUsers, target: target, on: connection)
        guard let user = try await Accounts.find(id, on: connection, logger: database.logger) else {
            throw DomainError.notFound("Ein Konto mit dieser Kennung gibt es nicht.")
        }
        return user
    }

    /// An account to change and its tenant, as the policy needs it (404 for a tenant that was deactivated).
    func findWithTenant(_ id: UUID, by identity: Identity, on connection: PostgresConnection) async throws -> (User, TenantRef) {
        let user = try await find(id, by: identity, on: connection)
        guard let tenant = try await TenantDirectory.find(slug: user.tenant, on: connection, logger: database.logger) else {
            throw DomainError.notFound("Den Mandanten des Kontos gibt es nicht mehr.")
        }
        return (user, tenant)
    }

    /// Creates an account without a password in `slug` (default: the identity's tenant) and an invitation to set one.
    /// Every role it gets must be one the tenant's kind has and the identity may grant.
    public func create(
        by identity: Identity,
        tenant slug: String?,
        email: String,
        displayName: String,
        roles: Set<Role>,
        clientAddress: String?
    ) async throws -> Invited {
        try await withRoleCheck { connection in
            let target = try await target(slug, for: identity, .manageUsers, on: connection)
            guard policy.allows(identity, .manageUsers, in: target) else {
                throw DomainError.forbidden("Ihre Rolle erlaubt nicht, Konten in \(target.name) anzulegen.")
            }
            try await checkRoleChange(from: [], to: roles, of: nil, in: target, by: identity, clientAddress: clientAddress, on: connection)
            try await connection.actAs(tenant: target.id, user: identity.userID, logger: database.logger)
            let user = try await Accounts.create(
                tenant: target.id,
                email: email,
                displayName: displayName,
                roles: roles,
                passwordHash: nil,
                on: connection,
                logger: database.logger
            )
            let (secret, expires) = try await invitations.create(tenant: target.id, user: user.id, by: identity.userID, on: connection)
            try await AuditLog.record(
                AuditEvent(
                    "user.created",
                    by: identity,
                    in: target.id,
                    objectType: "user",
                    objectID: user.id.uuidString,
                    detail: ["roles": user.roles.map(\.rawValue).joined(separator: ",")],
                    clientAddress: clientAddress
                ),
                on: connection,
                logger: database.logger
            )
            return Invited(user: user, invitationURL: invitationURL(secret), invitationExpiresAt: expires)
        }
    }

    public func invitationURL(_ secret: Secret) -> String { "\(publicURL)/einladung/\(secret.value)" }

    /// Changes roles, status or name of an account, if it is still at `version`. The person is notified
    /// when their roles change, and the change is audited; all in one transaction.
    public func update(by identity: Identity, id: UUID, version: Int, changes: UserChanges, clientAddress: String?) async throws -> User {
        try await withRoleCheck { connection in
            let (current, tenant) = try await findWithTenant(id, by: identity, on: connection)
            return try await update(
                current,
                of: tenant,
                by: identity,
                version: version,
                changes: changes,
                clientAddress: clientAddress,
                on: connection
            )
        }
    }

    /// `update` of an account found already, with its tenant.
    func update(
        _ current: User,
        of tenant: TenantRef,
        by identity: Identity,
        version: Int,
        changes: UserChanges,
        clientAddress: String?,
        on connection: PostgresConnection
    ) async throws -> User {
        let id = current.id
        guard policy.allows(identity, .manageUsers, in: tenant) else {
            throw DomainError.forbidden("Sie dürfen die Konten von \(tenant.name) sehen, aber nicht ändern.")
        }
        if id == identity.userID, changes.active == false {
            throw InvalidInput(field: "active", "Sie können sich nicht selbst deaktivieren; bitten Sie eine andere Administration darum.")
        }
        // A stale version changes nothing: Accounts.update says so, whatever the roles asked for.
        if current.version == version {
            let statusOrName =
                (changes.active.map { $0 != current.active } ?? false) || (changes.displayName.map { $0 != current.displayName } ?? false)
            if statusOrName, !policy.administersAccounts(of: tenant, actor: identity) {
                throw DomainError.forbidden(
                    "Konten von \(tenant.name) aktivieren, deaktivieren oder umbenennen kann nur deren Mandanten-Administration oder die Plattform-Administration; "
                        + "die Koordinierungsstelle vergibt dort nur Koordinierungs- und Lenkungsgruppen-Rollen."
                )
            }
            if let roles = changes.roles {
                try await checkRoleChange(
                    from: Set(current.roles),
                    to: roles,
                    of: id,
                    in: tenant,
                    by: identity,
                    clientAddress: clientAddress,
                    on: connection
                )
            }
        }
        try await connection.actAs(tenant: tenant.id, user: identity.userID, logger: database.logger)
        let (before, after) = try await Accounts.update(id, version: version, changes: changes, on: connection, logger: database.logger)
        for event in Self.events(before: before, after: after) {
            try await AuditLog.record(
                AuditEvent(
                    event.action,
                    by: identity,
                    in: tenant.id,
                    objectType: "user",
                    objectID: id.uuidString,
                    detail: event.detail,
                    clientAddress: clientAddress
                ),
                on: connection,
                logger: database.logger
            )
        }
        if before.roles != after.roles {
            let now = after.roles.map(\.label).joined(separator: ", ")
            try await Notifier.notify(
                id,
                .rolesChanged,
                title: "\(identity.displayName) hat Ihre Rollen geändert; Sie haben jetzt: \(now).",
                link: "/konto",
                dedupeKey: "roles-changed:\(id):\(after.version)",
                on: connection,
                logger: database.logger
            )
        }
        return after
    }

    static func events(before: User, after: User) -> [(action: String, detail: [String: String])] {
        var events: [(String, [String: String])] = []
        if before.roles != after.roles {
            events.append(
                (
                    "user.roles_changed",
                    ["from": before.roles.map(\.rawValue).joined(separator: ","), "to": after.roles.map(\.rawValue).joined(separator: ",")]
                )
            )
        }
        if before.active != after.active { events.append((after.active ? "user.reactivated" : "user.deactivated", [:])) }
        if before.displayName != after.displayName { events.append(("user.renamed", [:])) }
        return events
    }
}
