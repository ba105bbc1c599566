import Foundation
import PostgresNIO

/// Who may give or take which role (`Policy.roleTable`; migrations/0019 enforces the same in the database), and the
/// transaction in which a refused change is audited.
extension UserAdministration {
    /// Whether `identity` may change an account of `tenant` from `before` to `after` roles (nil account: a new one).
    /// 422 for a role the tenant's kind does not have, 403 for one the identity may not grant or take away, and
    /// 403 for one's own roles. A refusal is audited in the connection's transaction (it is what an attempt to escalate
    /// looks like) and thrown as `RefusedRoleChange`, for `withRoleCheck` to commit the entry.
    func checkRoleChange(
        from before: Set<Role>,
        to after: Set<Role>,
        of account: UUID?,
        in tenant: TenantRef,
        by identity: Identity,
        clientAddress: String?,
        on connection: PostgresConnection
    ) async throws {
        do {
            try checkRoleChange(from: before, to: after, of: account, in: tenant, by: identity)
        } catch DomainError.forbidden(let message) {
            try await connection.actAs(tenant: identity.tenant.id, user: identity.userID, logger: database.logger)
            try await AuditLog.record(
                AuditEvent(
                    "user.roles_change_refused",
                    by: identity,
                    objectType: "user",
                    objectID: account?.uuidString,
                    detail: ["tenant": tenant.slug, "from": Self.names(before), "to": Self.names(after)],
                    clientAddress: clientAddress
                ),
                on: connection,
                logger: database.logger
            )
            throw RefusedRoleChange(message: message)
        }
    }

    /// A role change refused and audited by `checkRoleChange`, before anything was written.
    struct RefusedRoleChange: Error {
        var message: String
    }

    /// Runs `body` in one transaction. A role change it refuses (before it writes anything) leaves its audit entry
    /// committed: the refusal reaches the caller as `forbidden` once the transaction is over.
    func withRoleCheck<Value: Sendable>(_ body: (PostgresConnection) async throws -> Value) async throws -> Value {
        let outcome: Result<Value, RefusedRoleChange> = try await database.withTransaction { connection in
            do {
                return .success(try await body(connection))
            } catch let refused as RefusedRoleChange {
                return .failure(refused)
            }
        }
        return try outcome.mapError { DomainError.forbidden($0.message) }.get()
    }

    /// The rule itself, as `Policy.roleTable` states it (migrations/0019 enforces the same in the database).
    func checkRoleChange(from before: Set<Role>, to after: Set<Role>, of account: UUID?, in tenant: TenantRef, by identity: Identity) throws {
        guard before != after else { return }
        guard !after.isEmpty else { throw InvalidInput(field: "roles", "Bitte mindestens eine Rolle angeben.") }
        if account == identity.userID {
            throw DomainError.forbidden("Die eigenen Rollen kann nur eine andere Administratorin oder ein anderer Administrator ändern.")
        }
        let offered = Policy.rolesOffered(by: tenant.kind)
        let missing = after.subtracting(before).subtracting(offered).sorted()
        if !missing.isEmpty {
            throw InvalidInput(
                field: "roles",
                "\(missing.count == 1 ? "Die Rolle" : "Die Rollen") \(missing.map(\.label).joined(separator: ", ")) gibt es \(Self.kindPhrase(tenant.kind)) "
                    + "(\(tenant.name)) nicht. Möglich sind dort: \(offered.map(\.label).joined(separator: ", "))."
            )
        }
        for role in after.symmetricDifference(before).sorted() where !policy.mayGrant(role, in: tenant, actor: identity) {
            let grantor = Policy.roleTable[role]?.grantedBy ?? .platformAdministration
            throw DomainError.forbidden(
                "Die Rolle \(role.label) \(after.contains(role) ? "vergibt" : "entzieht") in \(tenant.name) nur \(grantor.phrase); Ihre Rollen erlauben das nicht."
            )
        }
    }

    static func names(_ roles: Set<Role>) -> String { roles.sorted().map(\.rawValue).joined(separator: ",") }

    /// Where a role is missing, as the sentence "Die Rolle … gibt es <phrase> nicht" needs it.
    static func kindPhrase(_ kind: String) -> String {
        switch kind {
        case "platform": "im Betrieb"
        case "district": "in einem Kreis"
        case "municipality": "in einer Stadt oder Gemeinde"
        case "carrier": "bei einem Träger"
        case "authority": "in einer Behörde"
        default: "in einem Mandanten der Art \(kind)"
        }
    }
}
