import Foundation

/// What the users page (`/benutzer`) shows and changes, each in one call.
extension UserAdministration {
    struct Overview: Sendable {
        /// The tenant asked for, or the identity's own.
        var target: TenantRef
        /// No tenant was asked for and the identity sees the accounts of its whole district.
        var districtWide: Bool
        var accounts: [Managed]
        /// The roles a new account in `target` may get from the viewer (none: the viewer creates no accounts there).
        var newAccountRoles: [Role]
        /// The tenants a viewer who sees all may switch to (nil for everyone else).
        var tenantChoices: [TenantDirectory.Summary]?
    }

    /// The accounts of `slug` (or of the identity's own scope) with what the viewer may do, in one transaction.
    func overview(by identity: Identity, tenant slug: String?) async throws -> Overview {
        let scope = policy.scope(of: identity, for: .viewUsers)
        return try await database.withTransaction { connection in
            let target = try await target(slug, for: identity, .viewUsers, on: connection)
            let choices =
                scope == .all ? try await TenantDirectory.visible(to: identity, policy: policy, on: connection, logger: database.logger) : nil
            try await actInScope(identity, for: .viewUsers, target: slug == nil ? nil : target, on: connection)
            return Overview(
                target: target,
                districtWide: slug == nil && scope == .district,
                accounts: try await managed(by: identity, target: slug == nil ? nil : target, on: connection),
                newAccountRoles: policy.allows(identity, .manageUsers, in: target) ? policy.grantableRoles(in: target, by: identity) : [],
                tenantChoices: choices
            )
        }
    }

    /// A change from the users page: of the roles the viewer may grant, those `ticked` (the account's other roles stay), and the
    /// status only from those who administer the tenant's accounts. Returns the account's tenant, to which the page returns,
    /// and what became of the change; an account the viewer may not see throws.
    func changeOnPage(
        by identity: Identity,
        id: UUID,
        version: Int,
        ticked: [String],
        active: Bool,
        clientAddress: String?
    ) async throws -> (tenant: String, outcome: Result<User, any Error>) {
        var found: String?
        do {
            let user = try await withRoleCheck { connection in
                let (current, tenant) = try await findWithTenant(id, by: identity, on: connection)
                found = current.tenant
                let offered = Set(policy.grantableRoles(in: tenant, by: identity))
                let roles = Set(current.roles).subtracting(offered).union(try Role.parse(ticked, requireOne: false))
                let changes = UserChanges(roles: roles, active: policy.administersAccounts(of: tenant, actor: identity) ? active : nil)
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
            return (user.tenant, .success(user))
        } catch {
            guard let found else { throw error }
            return (found, .failure(error))
        }
    }
}
