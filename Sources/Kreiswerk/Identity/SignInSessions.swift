import Foundation
import PostgresNIO

/// What follows a sign-in that `SignIn` checked: the web session (and its second step), the API's login token, and
/// signing out. Each is audited in the transaction that starts or ends the credential.
struct SignInSessions: Sendable {
    let database: Database
    let signIn: SignIn
    let credentials: Credentials

    /// A web session just started: its secret goes into the cookie.
    struct Started: Sendable {
        var secret: Secret
        var secondFactorPending: Bool
    }

    /// Checks e-mail and password and starts a web session (one that waits for its second factor if the account has one).
    /// A new session id on every sign-in; the browser's earlier session (`replacing`) ends, whoever's and whatever its tenant.
    func startWebSession(email: String, password: String, replacing old: String?, clientAddress: String?) async throws -> Started {
        let verified = try await signIn.verify(email: email, password: password, code: nil, requireCode: false, clientAddress: clientAddress)
        let secret = try await database.withTenant(verified.tenantID, user: verified.userID) { connection in
            if let old, !old.isEmpty { try await credentials.endSession(cookie: old, on: connection) }
            let secret = try await credentials.startSession(
                tenant: verified.tenantID,
                user: verified.userID,
                secondFactorPending: verified.secondFactorPending,
                clientAddress: clientAddress,
                on: connection
            )
            if !verified.secondFactorPending {
                try await AuditLog.record(
                    signedIn(verified.tenantID, verified.userID, detail: ["via": "web"], clientAddress),
                    on: connection,
                    logger: database.logger
                )
            }
            return secret
        }
        return Started(secret: secret, secondFactorPending: verified.secondFactorPending)
    }

    /// Checks the code of the session that waits for its second factor; that session ends and a fresh one with a new id begins.
    func completeWebSession(_ session: UUID, of pending: Identity, code: String, clientAddress: String?) async throws -> Secret {
        try await signIn.verifySecondFactor(
            user: pending.userID,
            tenant: pending.tenant.id,
            email: pending.email,
            code: code,
            clientAddress: clientAddress
        )
        return try await database.withTenant(pending.tenant.id, user: pending.userID) { connection in
            try await credentials.endSession(session, on: connection)
            let secret = try await credentials.startSession(
                tenant: pending.tenant.id,
                user: pending.userID,
                secondFactorPending: false,
                clientAddress: clientAddress,
                on: connection
            )
            try await AuditLog.record(
                signedIn(pending.tenant.id, pending.userID, detail: ["via": "web", "second_factor": "totp"], clientAddress),
                on: connection,
                logger: database.logger
            )
            return secret
        }
    }

    /// Ends a web session (also one that still waits for its second factor).
    func endWebSession(_ session: UUID, of identity: Identity, clientAddress: String?) async throws {
        try await database.withTenant(identity.tenant.id, user: identity.userID) { connection in
            try await credentials.endSession(session, on: connection)
            try await AuditLog.record(
                AuditEvent(
                    "auth.sign_out",
                    tenant: identity.tenant.id,
                    actor: identity.userID,
                    objectType: "user",
                    objectID: identity.userID.uuidString,
                    detail: ["via": "web"],
                    clientAddress: clientAddress
                ),
                on: connection,
                logger: database.logger
            )
        }
    }

    /// Checks e-mail, password and code and issues a login token for the API; the identity behind it comes along.
    func issueLoginToken(
        email: String,
        password: String,
        code: String?,
        clientAddress: String?
    ) async throws -> (Credentials.PersonalToken, Secret, Identity) {
        let verified = try await signIn.verify(email: email, password: password, code: code, requireCode: true, clientAddress: clientAddress)
        let (token, secret) = try await database.withTenant(verified.tenantID, user: verified.userID) { connection in
            let issued = try await credentials.issueToken(
                tenant: verified.tenantID,
                user: verified.userID,
                personal: false,
                name: "API-Anmeldung",
                lifetime: credentials.lifetimes.loginToken,
                on: connection
            )
            try await AuditLog.record(
                signedIn(verified.tenantID, verified.userID, detail: ["via": "api"], clientAddress),
                on: connection,
                logger: database.logger
            )
            return issued
        }
        guard let identity = try await credentials.identity(bearer: secret.value, on: database.client) else {
            throw DomainError.unauthorized(SignIn.wrongCredentials)
        }
        return (token, secret, identity)
    }

    /// Revokes the bearer token in use (signing out of the API).
    func revokeToken(_ id: UUID, of identity: Identity, clientAddress: String?) async throws {
        try await database.withTenant(identity.tenant.id, user: identity.userID) { connection in
            try await credentials.revokeToken(id, of: identity.userID, on: connection)
            try await AuditLog.record(
                AuditEvent(
                    "auth.sign_out",
                    by: identity,
                    objectType: "user",
                    objectID: identity.userID.uuidString,
                    detail: ["via": "api"],
                    clientAddress: clientAddress
                ),
                on: connection,
                logger: database.logger
            )
        }
    }

    private func signedIn(_ tenant: UUID, _ user: UUID, detail: [String: String], _ clientAddress: String?) -> AuditEvent {
        AuditEvent(
            "auth.sign_in",
            tenant: tenant,
            actor: user,
            objectType: "user",
            objectID: user.uuidString,
            detail: detail,
            clientAddress: clientAddress
        )
    }
}
