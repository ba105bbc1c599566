import Foundation

/// One's own personal access tokens, as `/api/v1/tokens` and *Mein Konto* manage them.
///
/// A new token needs the password again (and the authenticator code when the account has a second factor):
/// a session left open or a 12-hour login token must not turn itself into a credential that outlives it. Every
/// token ends (`Credentials.personalTokenLifetime`), and a password change or reset ends them all (`Credentials.endAll`).
struct PersonalTokens: Sendable {
    let database: Database
    let signIn: SignIn
    let credentials: Credentials

    /// Creates a token for `identity` after checking its password (and code); the secret is returned once.
    func create(
        by identity: Identity,
        name: String,
        days: Int?,
        password: String,
        code: String?,
        clientAddress: String?
    ) async throws -> (Credentials.PersonalToken, Secret) {
        let lifetime = try credentials.personalTokenLifetime(days: days)
        try await confirmPassword(of: identity, password: password, code: code, clientAddress: clientAddress)
        return try await database.withTenant(identity.tenant.id, user: identity.userID) { connection in
            let issued = try await credentials.issueToken(
                tenant: identity.tenant.id,
                user: identity.userID,
                personal: true,
                name: name,
                lifetime: lifetime,
                on: connection
            )
            try await AuditLog.record(
                AuditEvent(
                    "token.created",
                    by: identity,
                    objectType: "token",
                    objectID: issued.0.id.uuidString,
                    detail: ["name": issued.0.name, "expires_at": issued.0.expiresAt.map { $0.formatted(.iso8601) } ?? ""],
                    clientAddress: clientAddress
                ),
                on: connection,
                logger: database.logger
            )
            return issued
        }
    }

    /// The identity's live personal access tokens, oldest first.
    func list(of identity: Identity) async throws -> [Credentials.PersonalToken] {
        try await database.withTenant(identity.tenant.id, user: identity.userID) {
            try await credentials.personalTokens(of: identity.userID, on: $0)
        }
    }

    /// Revokes one of the identity's tokens; returns its name.
    @discardableResult
    func revoke(_ id: UUID, by identity: Identity, clientAddress: String?) async throws -> String {
        try await database.withTenant(identity.tenant.id, user: identity.userID) { connection in
            guard let name = try await credentials.revokeToken(id, of: identity.userID, on: connection) else {
                throw DomainError.notFound("Einen Token mit dieser Kennung gibt es unter Ihren Tokens nicht (mehr).")
            }
            try await AuditLog.record(
                AuditEvent(
                    "token.revoked",
                    by: identity,
                    objectType: "token",
                    objectID: id.uuidString,
                    detail: ["name": name],
                    clientAddress: clientAddress
                ),
                on: connection,
                logger: database.logger
            )
            return name
        }
    }

    /// The signed-in person's password (and code) once more. It goes through sign-in itself, so wrong guesses count
    /// towards the account's lock like wrong passwords at the sign-in form.
    func confirmPassword(of identity: Identity, password: String, code: String?, clientAddress: String?) async throws {
        guard !password.isEmpty else {
            throw InvalidInput(field: "password", "Bitte zur Bestätigung Ihr Passwort eingeben.")
        }
        do {
            _ = try await signIn.verify(email: identity.email, password: password, code: code, requireCode: true, clientAddress: clientAddress)
        } catch DomainError.unauthorized {
            throw InvalidInput(field: "password", "Das Passwort stimmt nicht. Bitte das Passwort eingeben, mit dem Sie sich anmelden.")
        }
    }
}
