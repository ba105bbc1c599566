import Foundation
import Logging
import PostgresNIO

/// Web sessions and bearer tokens: issuing them, finding the identity behind one, ending them.
/// Only SHA-256 digests of the secrets are stored.
public struct Credentials: Sendable {
    public struct Lifetimes: Sendable {
        /// A web session ends after this long without a request…
        public var sessionIdle: Duration = .seconds(30 * 60)
        /// …and after this long in any case.
        public var sessionAbsolute: Duration = .seconds(10 * 60 * 60)
        /// A token from POST /api/v1/auth/login.
        public var loginToken: Duration = .seconds(12 * 60 * 60)
        /// An invitation link.
        public var invitation: Duration = .seconds(7 * 24 * 60 * 60)
        /// A personal access token for which no lifetime was asked…
        public var personalTokenDays = 90
        /// …and the longest one may ask for: every token ends.
        public var personalTokenMaximumDays = 365
        public init() {}
    }

    public let lifetimes: Lifetimes
    /// Identities resolved in the last seconds; in use only while its listener runs (see `IdentityCache`).
    public let cache: IdentityCache
    let logger: Logger

    public init(lifetimes: Lifetimes = Lifetimes(), cache: IdentityCache = IdentityCache(), logger: Logger) {
        self.lifetimes = lifetimes
        self.cache = cache
        self.logger = logger
    }

    // MARK: - Resolving

    /// The identity behind a session cookie, if the session is live.
    public func identity(session cookie: String, on client: PostgresClient) async throws -> (Identity, secondFactorPending: Bool)? {
        let digest = Secret.digest(cookie)
        return try await cache.identity(.session(digest)) {
            let idle = Double(lifetimes.sessionIdle.components.seconds)
            return try await DatabaseDeadline.leasing(from: client) { connection in
                let rows = try await connection.query("SELECT * FROM auth_session(\(digest), make_interval(secs => \(idle)))", logger: logger)
                return try await Self.decode(rows).first
            }
        }
    }

    /// The identity behind a bearer token, if the token is live.
    public func identity(bearer token: String, on client: PostgresClient) async throws -> Identity? {
        let digest = Secret.digest(token)
        return try await cache.identity(.bearer(digest)) {
            try await DatabaseDeadline.leasing(from: client) { connection in
                try await Self.decode(try await connection.query("SELECT * FROM auth_token(\(digest))", logger: logger)).first
            }
        }?.0
    }

    private static func decode(_ rows: PostgresRowSequence) async throws -> [(Identity, secondFactorPending: Bool)] {
        var result: [(Identity, Bool)] = []
        for try await row in rows { result.append(try identity(row)) }
        return result
    }

    /// One row of `auth_session` or `auth_token`.
    private static func identity(_ row: PostgresRow) throws -> (Identity, secondFactorPending: Bool) {
        let (tenantID, credentialID, userID, csrf, pending, tokenKind, email, name, roles, totp) = try row.decode(
            (UUID, UUID, UUID, String?, Bool, String?, String, String, [String], Bool).self
        )
        let columns = row.makeRandomAccess()
        let tenant = TenantRef(
            id: tenantID,
            slug: try columns[10].decode(String.self),
            name: try columns[11].decode(String.self),
            kind: try columns[12].decode(String.self),
            districtID: try columns[13].decode(UUID?.self),
            district: try columns[14].decode(String?.self)
        )
        let required = try columns[15].decode(Bool.self)
        let credential: Credential =
            if let csrf { .session(id: credentialID, csrfToken: csrf) } else { .token(id: credentialID, personal: tokenKind == "personal") }
        return (
            Identity(
                userID: userID,
                email: email,
                displayName: name,
                roles: Set(roles.compactMap(Role.init(rawValue:))),
                tenant: tenant,
                secondFactorEnabled: totp,
                secondFactorRequired: required,
                credential: credential,
                validUntil: try columns[16].decode(Date?.self)
            ), pending
        )
    }

    // MARK: - Web sessions

    /// Starts a web session; the returned secret goes into the cookie. Runs in a transaction acting for `tenant`.
    public func startSession(
        tenant: UUID,
        user: UUID,
        secondFactorPending: Bool,
        clientAddress: String?,
        on connection: PostgresConnection
    ) async throws -> Secret {
        let secret = Secret.generate(prefix: "kws_")
        let csrf = Secret.generate(prefix: "").value
        let absolute = Double(lifetimes.sessionAbsolute.components.seconds)
        try await connection.query(
            """
            INSERT INTO sessions (tenant_id, id, user_id, token_hash, csrf_token, second_factor_pending, client_address, expires_at)
            VALUES (\(tenant), \(UUID()), \(user), \(secret.digest), \(csrf), \(secondFactorPending), \(clientAddress),
                    now() + make_interval(secs => \(absolute)))
            """,
            logger: logger
        )
        return secret
    }

    /// Ends the session behind a cookie, whatever its tenant (`auth_end_session`): the transaction may act for another
    /// tenant, whose row-level security would hide the session.
    public func endSession(cookie: String, on connection: PostgresConnection) async throws {
        _ = try await connection.query("SELECT auth_end_session(\(Secret.digest(cookie)))", logger: logger).collect()
    }

    public func endSession(_ id: UUID, on connection: PostgresConnection) async throws {
        try await connection.query("UPDATE sessions SET ended_at = now() WHERE id = \(id) AND ended_at IS NULL", logger: logger)
    }

    // MARK: - Bearer tokens

    /// A personal access token as its owner sees it (the secret is shown once, at creation).
    public struct PersonalToken: Sendable, Codable, Equatable {
        public var id: UUID
        public var name: String
        public var createdAt: Date
        public var expiresAt: Date?
        public var lastUsedAt: Date?

        enum CodingKeys: String, CodingKey {
            case id, name
            case createdAt = "created_at", expiresAt = "expires_at", lastUsedAt = "last_used_at"
        }
    }

    /// The lifetime of a new personal access token: `days` if given (1 to the maximum), the default otherwise.
    public func personalTokenLifetime(days: Int?) throws(InvalidInput) -> Duration {
        let days = days ?? lifetimes.personalTokenDays
        guard (1...lifetimes.personalTokenMaximumDays).contains(days) else {
            throw InvalidInput(
                field: "expires_in_days",
                "Ein Token gilt höchstens \(lifetimes.personalTokenMaximumDays) Tage: bitte 1 bis \(lifetimes.personalTokenMaximumDays) angeben (ohne Angabe: \(lifetimes.personalTokenDays) Tage)."
            )
        }
        return .seconds(days * 86400)
    }

    /// Issues a token from the login endpoint (kind `login`) or a personal access token (kind `personal`); every token ends.
    public func issueToken(
        tenant: UUID,
        user: UUID,
        personal: Bool,
        name: String,
        lifetime: Duration,
        on connection: PostgresConnection
    ) async throws -> (PersonalToken, Secret) {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.count <= 100 else {
            throw InvalidInput(field: "name", "Bitte dem Token einen Namen von 1 bis 100 Zeichen geben, z. B. den der Anbindung.")
        }
        let secret = Secret.generate(prefix: personal ? "kwp_" : "kwt_")
        let id = UUID()
        let seconds = Double(lifetime.components.seconds)
        let row = try await connection.query(
            """
            INSERT INTO api_tokens (tenant_id, id, user_id, token_hash, kind, name, expires_at)
            VALUES (\(tenant), \(id), \(user), \(secret.digest), \(personal ? "personal" : "login"), \(trimmed),
                    now() + make_interval(secs => \(seconds)))
            RETURNING created_at, expires_at
            """,
            logger: logger
        ).collect().first!.decode((Date, Date?).self)
        return (PersonalToken(id: id, name: trimmed, createdAt: row.0, expiresAt: row.1, lastUsedAt: nil), secret)
    }

    public func personalTokens(of user: UUID, on connection: PostgresConnection) async throws -> [PersonalToken] {
        let rows = try await connection.query(
            """
            SELECT id, name, created_at, expires_at, last_used_at FROM api_tokens
            WHERE user_id = \(user) AND kind = 'personal' AND revoked_at IS NULL AND expires_at > now()
            ORDER BY created_at
            """,
            logger: logger
        )
        var tokens: [PersonalToken] = []
        for try await (id, name, created, expires, used) in rows.decode((UUID, String, Date, Date?, Date?).self) {
            tokens.append(PersonalToken(id: id, name: name, createdAt: created, expiresAt: expires, lastUsedAt: used))
        }
        return tokens
    }

    /// Ends every way into the account but `keeping` (the session that changed the password): its web sessions, login
    /// tokens and personal access tokens. After a password change or reset, nothing issued under the old password works.
    public func endAll(of user: UUID, keeping: Credential? = nil, on connection: PostgresConnection) async throws {
        var keptSession: UUID?
        var keptToken: UUID?
        switch keeping {
        case .session(let id, _): keptSession = id
        case .token(let id, _): keptToken = id
        case nil: break
        }
        try await connection.query(
            "UPDATE sessions SET ended_at = now() WHERE user_id = \(user) AND id IS DISTINCT FROM \(keptSession)::uuid AND ended_at IS NULL",
            logger: logger
        )
        try await connection.query(
            "UPDATE api_tokens SET revoked_at = now() WHERE user_id = \(user) AND id IS DISTINCT FROM \(keptToken)::uuid AND revoked_at IS NULL",
            logger: logger
        )
    }

    /// Revokes a token of `user` (nil: of anyone the transaction may see); its name, or nil if there was none to revoke.
    @discardableResult
    public func revokeToken(_ id: UUID, of user: UUID?, on connection: PostgresConnection) async throws -> String? {
        try await connection.query(
            """
            UPDATE api_tokens SET revoked_at = now()
            WHERE id = \(id) AND (\(user)::uuid IS NULL OR user_id = \(user)) AND revoked_at IS NULL RETURNING name
            """,
            logger: logger
        ).collect().first?.decode(String.self)
    }
}
