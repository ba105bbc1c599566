import Foundation
import Logging
import PostgresNIO

/// Checks e-mail, password and (when enabled) a TOTP code, with throttling and an audit entry
/// for every attempt. Unknown addresses and wrong passwords get the same answer in the same time.
public struct SignIn: Sendable {
    let database: Database
    let passwords: Passwords
    let throttle: SignInThrottle
    let secrets: SecretBox

    public init(database: Database, passwords: Passwords, throttle: SignInThrottle, secrets: SecretBox) {
        self.database = database
        self.passwords = passwords
        self.throttle = throttle
        self.secrets = secrets
    }

    public static let wrongCredentials = "E-Mail-Adresse oder Passwort ist falsch."
    static let codeUsed =
        "Dieser Code wurde schon verwendet. Bitte warten Sie, bis die Authenticator-App den nächsten Code zeigt (höchstens 30 Sekunden), und geben Sie diesen ein."

    /// An account whose password was right.
    public struct Verified: Sendable {
        public var tenantID: UUID
        public var userID: UUID
        /// The account has a second factor and no code was given yet.
        public var secondFactorPending: Bool
    }

    struct Account {
        var tenantID: UUID, userID: UUID, passwordHash: String?, totpSecret: String?, totpEnabled: Bool, active: Bool, tenantActive: Bool
    }

    /// Verifies the password, and the TOTP code if one is given. `requireCode` refuses a pending second factor
    /// (the API, which has no second step); the web form asks for the code on a page of its own.
    public func verify(email: String, password: String, code: String?, requireCode: Bool, clientAddress: String?) async throws -> Verified {
        let email = email.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        let attempt = try await throttle.reserve(email: email, address: clientAddress, on: database)
        let account = try await database.withTransaction { connection in
            try await connection.query("SELECT * FROM auth_account(\(email))", logger: database.logger).collect().first.map {
                let row = try $0.decode((UUID, UUID, String?, String?, Bool, Bool, Bool).self)
                return Account(
                    tenantID: row.0,
                    userID: row.1,
                    passwordHash: row.2,
                    totpSecret: row.3,
                    totpEnabled: row.4,
                    active: row.5,
                    tenantActive: row.6
                )
            }
        }
        let passwordMatches = try await passwords.verify(password, against: account?.passwordHash)
        guard let account, passwordMatches, account.active, account.tenantActive else {
            let reason = account == nil ? "unknown_address" : !passwordMatches ? "wrong_password" : "account_inactive"
            try await fail(attempt, account: account, reason: reason, clientAddress: clientAddress)
            throw DomainError.unauthorized(Self.wrongCredentials)
        }
        if account.totpEnabled, let sealed = account.totpSecret {
            guard let code, !code.isEmpty else {
                try await throttle.release(attempt, on: database)
                if requireCode {
                    throw InvalidInput(
                        field: "totp",
                        "Für dieses Konto ist ein zweiter Faktor eingerichtet: bitte den sechsstelligen Code aus der Authenticator-App mitsenden."
                    )
                }
                return Verified(tenantID: account.tenantID, userID: account.userID, secondFactorPending: true)
            }
            try await takeCode(code, sealed: sealed, field: "totp", account: account, attempt: attempt, clientAddress: clientAddress)
        }
        try await throttle.succeeded(attempt, on: database)
        return Verified(tenantID: account.tenantID, userID: account.userID, secondFactorPending: false)
    }

    /// The TOTP step of a web sign-in whose password was right.
    public func verifySecondFactor(user: UUID, tenant: UUID, email: String, code: String, clientAddress: String?) async throws {
        let attempt = try await throttle.reserve(email: email, address: clientAddress, on: database)
        let sealed = try await database.withTenant(tenant, user: user) { connection in
            try await Accounts.totpSecret(on: connection, logger: database.logger).flatMap { $0.enabled ? $0.sealed : nil }
        }
        let account = Account(
            tenantID: tenant,
            userID: user,
            passwordHash: nil,
            totpSecret: sealed,
            totpEnabled: true,
            active: true,
            tenantActive: true
        )
        try await takeCode(code, sealed: sealed, field: "code", account: account, attempt: attempt, clientAddress: clientAddress)
        try await throttle.succeeded(attempt, on: database)
    }

    /// Checks a TOTP code and takes its step for the account: a wrong code and a code whose step was taken
    /// already (a replay, or a parallel sign-in that was first) both fail. A secret sealed under an older
    /// key, or stored before secrets were sealed, is sealed anew under the current key in the same statement.
    private func takeCode(
        _ code: String,
        sealed: String?,
        field: String,
        account: Account,
        attempt: SignInThrottle.Attempt,
        clientAddress: String?
    ) async throws {
        let opened = try sealed.map { try secrets.open($0, account: account.userID) }
        guard let opened, let step = SecondFactor.verify(code, secret: opened.secret) else {
            try await fail(attempt, account: account, reason: "wrong_second_factor", clientAddress: clientAddress)
            throw InvalidInput(field: field, "Der Code stimmt nicht. Bitte den aktuellen sechsstelligen Code aus der Authenticator-App eingeben.")
        }
        let resealed = opened.stale ? try secrets.seal(opened.secret, account: account.userID) : nil
        let taken = try await database.withTenant(account.tenantID, user: account.userID) { connection in
            try await Accounts.useTOTP(step: step, action: "sign_in", resealed: resealed, on: connection, logger: database.logger)
        }
        guard taken else {
            try await fail(attempt, account: account, reason: "second_factor_replayed", clientAddress: clientAddress)
            throw InvalidInput(field: field, Self.codeUsed)
        }
    }

    /// Records the failed attempt (counted already by `reserve`) in the audit trail, and holds the answer back as the throttle says.
    private func fail(_ attempt: SignInThrottle.Attempt, account: Account?, reason: String, clientAddress: String?) async throws {
        try await database.withTransaction { connection in
            if let account { try await connection.actAs(tenant: account.tenantID, logger: database.logger) }
            try await AuditLog.record(
                AuditEvent(
                    "auth.sign_in_failed",
                    tenant: account?.tenantID,
                    actor: nil,
                    objectType: account == nil ? nil : "user",
                    objectID: account?.userID.uuidString,
                    detail: ["reason": reason],
                    clientAddress: clientAddress
                ),
                on: connection,
                logger: database.logger
            )
        }
        let delay = throttle.delay(after: attempt)
        if delay > .zero { try await Task.sleep(for: delay) }
    }
}
