import Foundation

/// An invited person sets their password through the one-time link (`/einladung/{token}`).
struct InvitationAcceptance: Sendable {
    let database: Database
    let invitations: Invitations
    let passwords: Passwords

    /// The open invitation behind a link; `gone` if it was used or has expired, `notFound` if there is none.
    func pending(_ token: String) async throws -> Invitations.Pending {
        try await invitations.pending(token, on: database.client)
    }

    enum Outcome: Sendable {
        /// The password is set; the invited person signs in with it (`email`) at once.
        case accepted(email: String)
        /// The password does not pass; the page asks again for this invitation.
        case refused(Invitations.Pending, errors: [String: String])
    }

    /// Sets the password and uses up the invitation, once, in one transaction.
    func accept(_ token: String, password: String, repeated: String, clientAddress: String?) async throws -> Outcome {
        let invitation = try await pending(token)
        do {
            try Passwords.validate(password, repeated: repeated)
        } catch {
            return .refused(invitation, errors: error.errors)
        }
        let hash = try await passwords.hash(password)
        try await database.withTenant(invitation.tenantID, user: invitation.userID) { connection in
            try await invitations.markUsed(invitation, on: connection)
            try await Accounts.setPasswordHash(hash, of: invitation.userID, on: connection, logger: database.logger)
            try await AuditLog.record(
                AuditEvent(
                    "user.invitation_accepted",
                    tenant: invitation.tenantID,
                    actor: invitation.userID,
                    objectType: "user",
                    objectID: invitation.userID.uuidString,
                    clientAddress: clientAddress
                ),
                on: connection,
                logger: database.logger
            )
        }
        return .accepted(email: invitation.email)
    }
}
