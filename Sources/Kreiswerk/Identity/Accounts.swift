import Foundation
import Logging
import PostgresNIO

/// An account as administrators and the API see it (never with its password hash or TOTP secret).
public struct User: Sendable, Codable, Equatable {
    public var id: UUID
    public var tenant: String
    public var email: String
    public var displayName: String
    public var roles: [Role]
    public var active: Bool
    public var secondFactorEnabled: Bool
    public var createdAt: Date
    public var version: Int

    enum CodingKeys: String, CodingKey {
        case id, tenant, email, roles, active, version
        case displayName = "display_name", secondFactorEnabled = "second_factor_enabled", createdAt = "created_at"
    }
}

/// Changes to an account; nil leaves a field as it is.
public struct UserChanges: Sendable, Equatable {
    public var roles: Set<Role>?
    public var active: Bool?
    public var displayName: String?

    public init(roles: Set<Role>? = nil, active: Bool? = nil, displayName: String? = nil) {
        self.roles = roles
        self.active = active
        self.displayName = displayName
    }
}

/// Accounts in PostgreSQL. Every function runs on a connection whose transaction already acts
/// for a tenant: row-level security decides which accounts it sees and may change.
public enum Accounts {
    static let columns = """
        u.id, t.slug, u.email, u.display_name, u.roles, u.active, u.totp_enabled_at IS NOT NULL, u.created_at, u.version
        """

    /// Normalises and checks an e-mail address and a display name.
    public static func validate(email: String, displayName: String) throws(InvalidInput) -> (email: String, displayName: String) {
        let email = email.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        let name = displayName.trimmingCharacters(in: .whitespacesAndNewlines)
        var errors: [String: String] = [:]
        if email.range(of: #"^[^@\s]+@[^@\s]+\.[^@\s]+$"#, options: .regularExpression) == nil {
            errors["email"] = "Bitte eine gültige E-Mail-Adresse angeben, z. B. name@stadt-witten.de."
        }
        if name.isEmpty { errors["display_name"] = "Bitte den Namen angeben, unter dem die Person im System erscheint." }
        if name.count > 200 { errors["display_name"] = "Der Name darf höchstens 200 Zeichen lang sein." }
        guard errors.isEmpty else { throw InvalidInput(errors: errors) }
        return (email, name)
    }

    /// Creates an account; without a password hash it signs in once its invitation is accepted. Only the owner role (the
    /// operator's `users create`) gives one: the request role cannot write the column.
    public static func create(
        tenant: UUID,
        email: String,
        displayName: String,
        roles: Set<Role>,
        passwordHash: String?,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws -> User {
        let (email, name) = try validate(email: email, displayName: displayName)
        let id = UUID()
        do {
            try await connection.query(
                """
                INSERT INTO users (tenant_id, id, email, display_name, roles)
                VALUES (\(tenant), \(id), \(email), \(name), \(roles.sorted().map(\.rawValue)))
                """,
                logger: logger
            )
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
            throw FieldConflict(field: "email", "Für die E-Mail-Adresse \(email) gibt es schon ein Konto.")
        }
        if let passwordHash {
            try await connection.query("UPDATE users SET password_hash = \(passwordHash) WHERE id = \(id)", logger: logger)
        }
        return try await find(id, on: connection, logger: logger)!
    }

    /// The accounts this transaction may see, optionally of one tenant only, by e-mail address.
    public static func list(tenant: UUID?, on connection: PostgresConnection, logger: Logger) async throws -> [User] {
        try await decode(
            connection.query(
                "SELECT \(unescaped: columns) FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE \(tenant)::uuid IS NULL OR u.tenant_id = \(tenant) ORDER BY u.email",
                logger: logger
            )
        )
    }

    public static func find(_ id: UUID, on connection: PostgresConnection, logger: Logger) async throws -> User? {
        try await decode(
            connection.query("SELECT \(unescaped: columns) FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE u.id = \(id)", logger: logger)
        ).first
    }

    public static func find(email: String, on connection: PostgresConnection, logger: Logger) async throws -> User? {
        try await decode(
            connection.query(
                "SELECT \(unescaped: columns) FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE u.email = \(email.lowercased())",
                logger: logger
            )
        ).first
    }

    /// Applies `changes` if the account is still at `version`; otherwise nothing changes and `stale` is thrown.
    public static func update(
        _ id: UUID,
        version: Int,
        changes: UserChanges,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws -> (before: User, after: User) {
        guard let before = try await find(id, on: connection, logger: logger) else {
            throw DomainError.notFound("Ein Konto mit dieser Kennung gibt es nicht.")
        }
        var name = before.displayName
        if let displayName = changes.displayName { name = try validate(email: before.email, displayName: displayName).displayName }
        let roles = (changes.roles.map { $0.sorted() } ?? before.roles).map(\.rawValue)
        let rows = try await connection.query(
            """
            UPDATE users SET roles = \(roles), active = \(changes.active ?? before.active), display_name = \(name),
                version = version + 1, updated_at = now()
            WHERE id = \(id) AND version = \(version) RETURNING 1
            """,
            logger: logger
        ).collect()
        guard !rows.isEmpty else {
            throw DomainError.stale(
                "Das Konto wurde inzwischen geändert (jetzt Version \(before.version), Ihre Änderung beruht auf Version \(version)). Bitte neu laden und die Änderung erneut vornehmen."
            )
        }
        if changes.active == false {
            // A deactivated account keeps no way in.
            try await connection.query("UPDATE sessions SET ended_at = now() WHERE user_id = \(id) AND ended_at IS NULL", logger: logger)
            try await connection.query("UPDATE api_tokens SET revoked_at = now() WHERE user_id = \(id) AND revoked_at IS NULL", logger: logger)
        }
        return (before, try await find(id, on: connection, logger: logger)!)
    }

    /// Sets the password hash of `id`, which must be the user the transaction acts as: the request role cannot write
    /// the column, only `account_set_password` can, and only for the acting user.
    public static func setPasswordHash(_ hash: String, of id: UUID, on connection: PostgresConnection, logger: Logger) async throws {
        _ = try await connection.query("SELECT account_set_password(\(id), \(hash))", logger: logger).collect()
    }

    /// The password hash of the user the transaction acts as (to check the current password before a change).
    public static func passwordHash(on connection: PostgresConnection, logger: Logger) async throws -> String? {
        try await connection.query("SELECT account_password_hash()", logger: logger).collect().first?.decode(String?.self)
    }

    /// The sealed TOTP secret of the user the transaction acts as, and whether it is confirmed; nil without one.
    public static func totpSecret(on connection: PostgresConnection, logger: Logger) async throws -> (sealed: String, enabled: Bool)? {
        try await connection.query("SELECT secret, enabled FROM account_totp_secret()", logger: logger).collect().first?.decode((String, Bool).self)
    }

    /// Starts setting up a second factor for the acting user with a new sealed secret (confirmed by `useTOTP(… "confirm")`).
    public static func beginTOTP(_ sealed: String, on connection: PostgresConnection, logger: Logger) async throws {
        _ = try await connection.query("SELECT account_totp_begin(\(sealed))", logger: logger).collect()
    }

    /// Takes a TOTP step of the acting user for `action` (`sign_in`, `confirm`, `remove`), once: false if the step was
    /// taken already. `resealed` stores the secret sealed anew under the current key in the same statement.
    public static func useTOTP(
        step: Int64,
        action: String,
        resealed: String? = nil,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws -> Bool {
        try await connection.query("SELECT account_totp_use(\(step), \(action), \(resealed))", logger: logger).collect().first?.decode(Bool?.self)
            == true
    }

    private static func decode(_ rows: PostgresRowSequence) async throws -> [User] {
        var users: [User] = []
        for try await (id, tenant, email, name, roles, active, totp, created, version) in rows.decode(
            (UUID, String, String, String, [String], Bool, Bool, Date, Int).self
        ) {
            users.append(
                User(
                    id: id,
                    tenant: tenant,
                    email: email,
                    displayName: name,
                    roles: roles.compactMap(Role.init(rawValue:)).sorted(),
                    active: active,
                    secondFactorEnabled: totp,
                    createdAt: created,
                    version: version
                )
            )
        }
        return users
    }
}
