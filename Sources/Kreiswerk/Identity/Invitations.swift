import Foundation
import Logging
import PostgresNIO

/// One-time links with which a new account holder sets their password.
public struct Invitations: Sendable {
    public let lifetime: Duration
    let logger: Logger

    public init(lifetime: Duration, logger: Logger) {
        self.lifetime = lifetime
        self.logger = logger
    }

    /// An invitation as its page needs it.
    public struct Pending: Sendable {
        public var tenantID: UUID
        public var id: UUID
        public var userID: UUID
        public var email: String
        public var displayName: String
    }

    /// Creates an invitation for `user`; the secret goes into the link. Runs in a transaction acting for `tenant`.
    public func create(tenant: UUID, user: UUID, by creator: UUID?, on connection: PostgresConnection) async throws -> (Secret, expiresAt: Date) {
        let secret = Secret.generate(prefix: "kwi_")
        let seconds = Double(lifetime.components.seconds)
        let expires = try await connection.query(
            """
            INSERT INTO invitations (tenant_id, id, user_id, token_hash, created_by, expires_at)
            VALUES (\(tenant), \(UUID()), \(user), \(secret.digest), \(creator), now() + make_interval(secs => \(seconds)))
            RETURNING expires_at
            """,
            logger: logger
        ).collect().first!.decode(Date.self)
        return (secret, expires)
    }

    /// The open invitation behind a link; `gone` if it was used or has expired, `notFound` if there is none.
    public func pending(_ token: String, on client: PostgresClient) async throws -> Pending {
        let rows = try await client.query("SELECT * FROM auth_invitation(\(Secret.digest(token)))", logger: logger).collect()
        guard let row = rows.first else {
            throw DomainError.notFound("Diesen Einladungslink gibt es nicht. Bitte prüfen Sie, ob er vollständig kopiert wurde.")
        }
        let (tenant, id, user, email, name, expires, used, ended) = try row.decode((UUID, UUID, UUID, String, String, Date, Date?, String?).self)
        if used != nil {
            throw DomainError.gone("Diese Einladung ist nicht mehr gültig: Sie wurde bereits verwendet. Melden Sie sich mit Ihrem Passwort an.")
        }
        if ended == EndReason.replaced.rawValue {
            throw DomainError.gone(
                "Dieser Einladungslink wurde durch einen neueren ersetzt und gilt nicht mehr. Bitte verwenden Sie den Link aus der neuesten Einladung "
                    + "oder bitten Sie Ihre Administration, sie noch einmal zu senden."
            )
        }
        if ended == EndReason.withdrawn.rawValue {
            throw DomainError.gone("Diese Einladung wurde zurückgezogen und gilt nicht mehr. Bei Fragen wenden Sie sich an Ihre Administration.")
        }
        if expires < Date() {
            throw DomainError.gone("Diese Einladung ist nicht mehr gültig: Sie ist abgelaufen. Bitten Sie Ihre Administration um eine neue.")
        }
        return Pending(tenantID: tenant, id: id, userID: user, email: email, displayName: name)
    }

    /// Marks the invitation used, once; `gone` if another request used it first.
    public func markUsed(_ invitation: Pending, on connection: PostgresConnection) async throws {
        let rows = try await connection.query(
            """
            UPDATE invitations SET used_at = now()
            WHERE id = \(invitation.id) AND used_at IS NULL AND ended_at IS NULL AND expires_at > now() RETURNING 1
            """,
            logger: logger
        ).collect()
        guard !rows.isEmpty else { throw DomainError.gone("Diese Einladung ist nicht mehr gültig: Sie wurde bereits verwendet.") }
    }

    // MARK: - Managing open invitations

    /// Why an invitation ended before it was used.
    public enum EndReason: String, Sendable {
        /// Sent again: a new link took its place.
        case replaced
        /// Withdrawn by an administrator.
        case withdrawn
    }

    /// Where an account's invitation stands, as the users page shows it. An account that accepted one (or was made with a
    /// password by the operator) has none.
    public enum State: Sendable, Equatable {
        /// The latest link is open: sent at, valid until.
        case open(sentAt: Date, expiresAt: Date)
        /// The latest link ran out unused.
        case expired(sentAt: Date, expiredAt: Date)
        /// The invitation was withdrawn.
        case withdrawn(at: Date)

        /// Whether the invitation can be sent again or withdrawn (it was not withdrawn already).
        public var isPending: Bool { if case .withdrawn = self { false } else { true } }
    }

    /// The invitation state of each of `users` that never accepted one, in the connection's transaction (row-level security
    /// decides whose invitations it sees).
    public func states(of users: [UUID], on connection: PostgresConnection) async throws -> [UUID: State] {
        guard !users.isEmpty else { return [:] }
        let rows = try await connection.query(
            """
            SELECT DISTINCT ON (i.user_id) i.user_id, i.created_at, i.expires_at, i.ended_at, i.ended_reason
            FROM invitations i
            WHERE i.user_id = ANY(\(users))
              AND NOT EXISTS (SELECT 1 FROM invitations a WHERE a.tenant_id = i.tenant_id AND a.user_id = i.user_id AND a.used_at IS NOT NULL)
            ORDER BY i.user_id, i.created_at DESC, i.id
            """,
            logger: logger
        )
        var states: [UUID: State] = [:]
        for try await (user, sent, expires, ended, reason) in rows.decode((UUID, Date, Date, Date?, String?).self) {
            if let ended, reason == EndReason.withdrawn.rawValue {
                states[user] = .withdrawn(at: ended)
            } else if expires <= Date() {
                states[user] = .expired(sentAt: sent, expiredAt: expires)
            } else {
                states[user] = .open(sentAt: sent, expiresAt: expires)
            }
        }
        return states
    }

    /// Ends every open link of `user` for `reason`; returns how many ended. Runs in a transaction acting for the user's tenant.
    public func end(user: UUID, _ reason: EndReason, on connection: PostgresConnection) async throws -> Int {
        try await connection.query(
            """
            UPDATE invitations SET ended_at = now(), ended_reason = \(reason.rawValue)
            WHERE user_id = \(user) AND used_at IS NULL AND ended_at IS NULL RETURNING 1
            """,
            logger: logger
        ).collect().count
    }
}
