import Foundation
import Logging
import PostgresNIO

/// Checks e-mail, password and (when enabled) a TOTP code, with throttling and an audit entry
/// for every attempt. Unknown addresses and wrong passwords get the same answer in the same time.
public struct SignIn: Sendable {
    let database: Database
    let passwords: Passwords
    let throttle: SignInThrottle

    public init(database: Database, passwords: Passwords, throttle: SignInThrottle) {
        self.database = database
        self.passwords = passwords
        self.throttle = throttle
    }

    public static let wrongCredentials = "E-Mail-Adresse oder Passwort ist falsch."

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
        try await database.withTransaction { try await throttle.check(email: email, address: clientAddress, on: $0, logger: database.logger) }
        let account = try await database.withTransaction { connection in
            try await connection.query("SELECT * FROM auth_account(\(email))", logger: database.logger).collect().first.map {
                let row = try $0.decode((UUID, UUID, String?, String?, Bool, Bool, Bool).self)
                return Account(tenantID: row.0, userID: row.1, passwordHash: row.2, totpSecret: row.3, totpEnabled: row.4, active: row.5, tenantActive: row.6)
            }
        }
        let passwordMatches = try await passwords.verify(password, against: account?.passwordHash)
        guard let account, passwordMatches, account.active, account.tenantActive else {
            let reason = account == nil ? "unknown_address" : !passwordMatches ? "wrong_password" : "account_inactive"
            try await fail(email: email, account: account, reason: reason, clientAddress: clientAddress)
            throw DomainError.unauthorized(Self.wrongCredentials)
        }
        if account.totpEnabled, let secret = account.totpSecret {
            if let code, !code.isEmpty {
                guard SecondFactor.verify(code, secret: secret) else {
                    try await fail(email: email, account: account, reason: "wrong_second_factor", clientAddress: clientAddress)
                    throw InvalidInput(field: "totp", "Der Code aus der Authenticator-App stimmt nicht. Bitte den aktuellen sechsstelligen Code eingeben.")
                }
            } else if requireCode {
                throw InvalidInput(field: "totp", "Für dieses Konto ist ein zweiter Faktor eingerichtet: bitte den sechsstelligen Code aus der Authenticator-App mitsenden.")
            } else {
                return Verified(tenantID: account.tenantID, userID: account.userID, secondFactorPending: true)
            }
        }
        try await database.withTransaction { try await throttle.recordSuccess(email: email, on: $0, logger: database.logger) }
        return Verified(tenantID: account.tenantID, userID: account.userID, secondFactorPending: false)
    }

    /// The TOTP step of a web sign-in whose password was right.
    public func verifySecondFactor(user: UUID, tenant: UUID, email: String, code: String, clientAddress: String?) async throws {
        let secret = try await database.withTenant(tenant) { connection in
            try await connection.query("SELECT totp_secret FROM users WHERE id = \(user)", logger: database.logger).collect().first?.decode(String?.self)
        }
        try await database.withTransaction { try await throttle.check(email: email, address: clientAddress, on: $0, logger: database.logger) }
        guard let secret, SecondFactor.verify(code, secret: secret) else {
            let account = Account(tenantID: tenant, userID: user, passwordHash: nil, totpSecret: nil, totpEnabled: true, active: true, tenantActive: true)
            try await fail(email: email, account: account, reason: "wrong_second_factor", clientAddress: clientAddress)
            throw InvalidInput(field: "code", "Der Code stimmt nicht. Bitte den aktuellen sechsstelligen Code aus der Authenticator-App eingeben.")
        }
        try await database.withTransaction { try await throttle.recordSuccess(email: email, on: $0, logger: database.logger) }
    }

    /// Counts the failure, records it in the audit trail, and holds the answer back as the throttle says.
    private func fail(email: String, account: Account?, reason: String, clientAddress: String?) async throws {
        let delay = try await database.withTransaction { connection in
            let delay = try await throttle.recordFailure(email: email, address: clientAddress, on: connection, logger: database.logger)
            if let account { try await connection.actAs(tenant: account.tenantID, logger: database.logger) }
            try await AuditLog.record(
                AuditEvent(
                    "auth.sign_in_failed", tenant: account?.tenantID, actor: nil, objectType: account == nil ? nil : "user",
                    objectID: account?.userID.uuidString, detail: ["reason": reason], clientAddress: clientAddress),
                on: connection, logger: database.logger)
            return delay
        }
        if delay > .zero { try await Task.sleep(for: delay) }
    }
}
