import Foundation
import PostgresNIO

/// One's own account as *Mein Konto* shows and changes it: the password and the second factor (TOTP). Its personal
/// access tokens are `PersonalTokens`'; the page's overview lists them with the rest, in the same transaction.
struct OwnAccount: Sendable {
    let database: Database
    let passwords: Passwords
    let credentials: Credentials
    /// Seals the TOTP secret set up here (`account_totp_*` keep it, sealed, in the database).
    let secrets: SecretBox

    /// What the account page shows besides the identity itself.
    struct Overview: Sendable {
        /// The secret of a second factor that is being set up and not yet confirmed.
        var pendingSecret: String?
        /// The live personal access tokens, oldest first.
        var tokens: [Credentials.PersonalToken]
    }

    func overview(of identity: Identity) async throws -> Overview {
        let (stored, tokens) = try await asOwner(identity) { connection in
            (
                try await Accounts.totpSecret(on: connection, logger: database.logger),
                try await credentials.personalTokens(of: identity.userID, on: connection)
            )
        }
        return Overview(pendingSecret: try opened(stored, of: identity, pendingOnly: true), tokens: tokens)
    }

    /// Changes the password after checking the current one. Everything issued under the old password ends (other sessions,
    /// login tokens, personal access tokens) but the credential in use. `InvalidInput` for a wrong current password or a
    /// new one that does not pass; the slow hashing runs outside the transactions.
    func changePassword(current: String, new: String, repeated: String, by identity: Identity, clientAddress: String?) async throws {
        let stored = try await asOwner(identity) { try await Accounts.passwordHash(on: $0, logger: database.logger) }
        guard try await passwords.verify(current, against: stored) else {
            throw InvalidInput(field: "current_password", "Das bisherige Passwort stimmt nicht.")
        }
        try Passwords.validate(new, repeated: repeated, field: "new_password")
        let hash = try await passwords.hash(new)
        try await asOwner(identity) { connection in
            try await Accounts.setPasswordHash(hash, of: identity.userID, on: connection, logger: database.logger)
            try await credentials.endAll(of: identity.userID, keeping: identity.credential, on: connection)
            try await AuditLog.record(
                AuditEvent(
                    "auth.password_changed",
                    by: identity,
                    objectType: "user",
                    objectID: identity.userID.uuidString,
                    clientAddress: clientAddress
                ),
                on: connection,
                logger: database.logger
            )
        }
    }

    /// Starts setting up a second factor with a new secret; nothing changes for an account that has one already.
    func beginSecondFactor(by identity: Identity) async throws {
        guard !identity.secondFactorEnabled else { return }
        let sealed = try secrets.seal(SecondFactor.newSecret(), account: identity.userID)
        try await asOwner(identity) { try await Accounts.beginTOTP(sealed, on: $0, logger: database.logger) }
    }

    /// Confirming the second factor being set up, or removing the confirmed one, each with a current code.
    enum SecondFactorChange: String, Sendable {
        case confirm, remove
        var auditAction: String { self == .confirm ? "auth.second_factor_enabled" : "auth.second_factor_disabled" }
    }

    enum SecondFactorOutcome: Sendable {
        case done
        /// No second factor is being set up (confirm).
        case nothingPending
        /// The tenant requires a second factor: it cannot be removed.
        case requiredByTenant
        /// The code is wrong or its step was used already (it signs in nowhere else).
        case wrongCode
    }

    /// Checks the code, takes its step and audits the change, in one transaction.
    func changeSecondFactor(
        _ change: SecondFactorChange,
        code: String,
        by identity: Identity,
        clientAddress: String?
    ) async throws -> SecondFactorOutcome {
        if change == .remove, identity.secondFactorRequired { return .requiredByTenant }
        return try await asOwner(identity) { connection in
            let stored = try await Accounts.totpSecret(on: connection, logger: database.logger)
            guard let secret = try opened(stored, of: identity, pendingOnly: change == .confirm) else {
                return change == .confirm ? .nothingPending : .wrongCode
            }
            guard let step = SecondFactor.verify(code, secret: secret),
                try await Accounts.useTOTP(step: step, action: change.rawValue, on: connection, logger: database.logger)
            else { return .wrongCode }
            try await AuditLog.record(
                AuditEvent(change.auditAction, by: identity, objectType: "user", objectID: identity.userID.uuidString, clientAddress: clientAddress),
                on: connection,
                logger: database.logger
            )
            return .done
        }
    }

    /// The stored TOTP secret, opened; with `pendingOnly`, only while it is being set up (not yet confirmed).
    private func opened(_ stored: (sealed: String, enabled: Bool)?, of identity: Identity, pendingOnly: Bool) throws -> String? {
        guard let stored, !(pendingOnly && stored.enabled) else { return nil }
        return try secrets.open(stored.sealed, account: identity.userID).secret
    }

    /// One transaction acting as the account's owner: the `account_*` functions act for the acting user only.
    private func asOwner<Result: Sendable>(_ identity: Identity, _ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        try await database.withTenant(identity.tenant.id, user: identity.userID, body)
    }
}
