import Foundation
import PostgresNIO

/// Open invitations: sent again (a new link; the old one says it was replaced) or withdrawn (the link says so).
extension UserAdministration {
    /// The account `id` with an invitation that was never accepted, in a transaction now acting for its tenant, if `identity`
    /// administers that tenant's accounts.
    func invitedAccount(_ id: UUID, by identity: Identity, on connection: PostgresConnection) async throws -> (User, TenantRef, Invitations.State) {
        let (user, tenant) = try await findWithTenant(id, by: identity, on: connection)
        guard policy.administersAccounts(of: tenant, actor: identity), user.id != identity.userID else {
            throw DomainError.forbidden(
                "Einladungen für Konten von \(tenant.name) sendet und zieht nur deren Mandanten-Administration oder die Plattform-Administration zurück."
            )
        }
        try await connection.actAs(tenant: tenant.id, user: identity.userID, logger: database.logger)
        guard let state = try await invitations.states(of: [id], on: connection)[id] else {
            throw DomainError.conflict("\(user.displayName) hat keine offene Einladung: Das Konto ist schon in Gebrauch.")
        }
        return (user, tenant, state)
    }

    /// Sends the invitation of a pending account again: a new link valid for the full period; every earlier link ends as replaced.
    public func resendInvitation(by identity: Identity, id: UUID, clientAddress: String?) async throws -> Invited {
        try await database.withTransaction { connection in
            let (user, tenant, _) = try await invitedAccount(id, by: identity, on: connection)
            guard user.active else {
                throw DomainError.conflict("Das Konto von \(user.displayName) ist deaktiviert. Bitte zuerst aktivieren, dann die Einladung senden.")
            }
            let replaced = try await invitations.end(user: id, .replaced, on: connection)
            let (secret, expires) = try await invitations.create(tenant: tenant.id, user: id, by: identity.userID, on: connection)
            try await AuditLog.record(
                AuditEvent(
                    "user.invitation_resent",
                    by: identity,
                    in: tenant.id,
                    objectType: "user",
                    objectID: id.uuidString,
                    detail: ["replaced": "\(replaced)"],
                    clientAddress: clientAddress
                ),
                on: connection,
                logger: database.logger
            )
            return Invited(user: user, invitationURL: invitationURL(secret), invitationExpiresAt: expires)
        }
    }

    /// Withdraws the open invitation of a pending account: its link ends and says so. The account stays, without a way in.
    public func withdrawInvitation(by identity: Identity, id: UUID, clientAddress: String?) async throws -> User {
        try await database.withTransaction { connection in
            let (user, tenant, state) = try await invitedAccount(id, by: identity, on: connection)
            guard state.isPending else { throw DomainError.conflict("Die Einladung von \(user.displayName) ist schon zurückgezogen.") }
            let ended = try await invitations.end(user: id, .withdrawn, on: connection)
            try await AuditLog.record(
                AuditEvent(
                    "user.invitation_withdrawn",
                    by: identity,
                    in: tenant.id,
                    objectType: "user",
                    objectID: id.uuidString,
                    detail: ["ended": "\(ended)"],
                    clientAddress: clientAddress
                ),
                on: connection,
                logger: database.logger
            )
            return user
        }
    }
}
