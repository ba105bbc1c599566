import Foundation
import Logging
import PostgresNIO

/// Account operations of the command line, run by an operator as the owner role (DATABASE_URL):
/// the first platform administrator, password resets, tokens for integrations. Each is audited
/// with `via: cli` and no actor.
public struct OperatorAccounts: Sendable {
    let database: Database
    let passwords: Passwords

    public init(database: Database, passwords: Passwords = Passwords()) {
        self.database = database
        self.passwords = passwords
    }

    func tenant(_ slug: String, on connection: PostgresConnection) async throws -> TenantRef {
        guard let tenant = try await TenantDirectory.find(slug: slug, on: connection, logger: database.logger) else {
            throw TenantNotFound(slug: slug)
        }
        return tenant
    }

    /// Creates an account with a password (no invitation).
    public func create(tenant slug: String, email: String, displayName: String, roles: Set<Role>, password: String) async throws -> User {
        try Passwords.validate(password)
        let hash = try await passwords.hash(password)
        return try await database.withTransaction { connection in
            let tenant = try await tenant(slug, on: connection)
            // The kind rule of Policy.roleTable (the database checks it too); the operator may grant any role.
            let offered = Policy.rolesOffered(by: tenant.kind)
            if !roles.isSubset(of: offered) {
                throw InvalidInput(
                    field: "roles",
                    "\(roles.subtracting(offered).sorted().map(\.rawValue).joined(separator: ", ")) does not exist in \(tenant.slug) (a \(tenant.kind)); "
                        + "its roles are \(offered.map(\.rawValue).joined(separator: ", "))"
                )
            }
            try await connection.actAs(tenant: tenant.id, logger: database.logger)
            let user = try await Accounts.create(
                tenant: tenant.id,
                email: email,
                displayName: displayName,
                roles: roles,
                passwordHash: hash,
                on: connection,
                logger: database.logger
            )
            try await AuditLog.record(
                AuditEvent(
                    "user.created",
                    tenant: tenant.id,
                    actor: nil,
                    objectType: "user",
                    objectID: user.id.uuidString,
                    detail: ["roles": user.roles.map(\.rawValue).joined(separator: ","), "via": "cli"]
                ),
                on: connection,
                logger: database.logger
            )
            return user
        }
    }

    public func list(tenant slug: String) async throws -> [User] {
        try await database.withTransaction { connection in
            let tenant = try await tenant(slug, on: connection)
            return try await Accounts.list(tenant: tenant.id, on: connection, logger: database.logger)
        }
    }

    /// Sets a new password, ends the account's sessions and every token (login and personal), and unlocks it.
    public func resetPassword(email: String, password: String) async throws {
        try Passwords.validate(password)
        let hash = try await passwords.hash(password)
        try await database.withTransaction { connection in
            guard let user = try await Accounts.find(email: email, on: connection, logger: database.logger) else {
                throw InvalidInput(field: "email", "no account has the e-mail address \(email)")
            }
            let tenant = try await tenant(user.tenant, on: connection)
            // Acting as the account: a password is only ever set for the acting user (account_set_password).
            try await connection.actAs(tenant: tenant.id, user: user.id, logger: database.logger)
            try await Accounts.setPasswordHash(hash, of: user.id, on: connection, logger: database.logger)
            try await Credentials(logger: database.logger).endAll(of: user.id, on: connection)
            try await connection.query("DELETE FROM sign_in_failures WHERE key = \(SignInThrottle.accountKey(user.email))", logger: database.logger)
            try await AuditLog.record(
                AuditEvent(
                    "user.password_reset",
                    tenant: tenant.id,
                    actor: nil,
                    objectType: "user",
                    objectID: user.id.uuidString,
                    detail: ["via": "cli"]
                ),
                on: connection,
                logger: database.logger
            )
        }
    }

    /// Seals every TOTP secret anew under the current key of `secrets`: those sealed under an older key (a rotation: once
    /// this has run, the old keys can be dropped from KREISWERK_TOTP_OLD_KEYS) and those stored in plain text before
    /// secrets were sealed (0018). All or nothing; returns how many were sealed anew and how many secrets there are.
    public func resealSecondFactors(with secrets: SecretBox) async throws -> (resealed: Int, total: Int) {
        try await database.withTransaction { connection in
            let rows = try await connection.query(
                "SELECT id, totp_secret FROM users WHERE totp_secret IS NOT NULL FOR UPDATE",
                logger: database.logger
            ).collect().map { try $0.decode((UUID, String).self) }
            var resealed = 0
            for (id, stored) in rows where !secrets.isCurrent(stored) {
                let sealed = try secrets.seal(try secrets.open(stored, account: id).secret, account: id)
                try await connection.query("UPDATE users SET totp_secret = \(sealed) WHERE id = \(id)", logger: database.logger)
                resealed += 1
            }
            return (resealed, rows.count)
        }
    }

    /// A personal access token for the account of `email` (90 days unless `expiresInDays`, at most 365); the secret is returned once.
    public func createToken(email: String, name: String, expiresInDays: Int?) async throws -> (Credentials.PersonalToken, Secret) {
        let credentials = Credentials(logger: database.logger)
        let lifetime = try credentials.personalTokenLifetime(days: expiresInDays)
        return try await database.withTransaction { connection in
            guard let user = try await Accounts.find(email: email, on: connection, logger: database.logger) else {
                throw InvalidInput(field: "email", "no account has the e-mail address \(email)")
            }
            let tenant = try await tenant(user.tenant, on: connection)
            try await connection.actAs(tenant: tenant.id, logger: database.logger)
            let issued = try await credentials.issueToken(
                tenant: tenant.id,
                user: user.id,
                personal: true,
                name: name,
                lifetime: lifetime,
                on: connection
            )
            try await AuditLog.record(
                AuditEvent(
                    "token.created",
                    tenant: tenant.id,
                    actor: nil,
                    objectType: "token",
                    objectID: issued.0.id.uuidString,
                    detail: ["name": issued.0.name, "via": "cli"]
                ),
                on: connection,
                logger: database.logger
            )
            return issued
        }
    }

    public func revokeToken(_ id: UUID) async throws {
        try await database.withTransaction { connection in
            let row = try await connection.query(
                "UPDATE api_tokens SET revoked_at = now() WHERE id = \(id) AND revoked_at IS NULL RETURNING tenant_id",
                logger: database.logger
            ).collect().first
            guard let tenant = try row?.decode(UUID.self) else { throw InvalidInput(field: "id", "no live token has the id \(id)") }
            try await connection.actAs(tenant: tenant, logger: database.logger)
            try await AuditLog.record(
                AuditEvent("token.revoked", tenant: tenant, actor: nil, objectType: "token", objectID: id.uuidString, detail: ["via": "cli"]),
                on: connection,
                logger: database.logger
            )
        }
    }
}
