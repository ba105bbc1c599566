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
        let (tenant, id, user, email, name, expires, used) = try row.decode((UUID, UUID, UUID, String, String, Date, Date?).self)
        if used != nil {
            throw DomainError.gone("Diese Einladung ist nicht mehr gültig: Sie wurde bereits verwendet. Melden Sie sich mit Ihrem Passwort an.")
        }
        if expires < Date() {
            throw DomainError.gone("Diese Einladung ist nicht mehr gültig: Sie ist abgelaufen. Bitten Sie Ihre Administration um eine neue.")
        }
        return Pending(tenantID: tenant, id: id, userID: user, email: email, displayName: name)
    }

    /// Marks the invitation used, once; `gone` if another request used it first.
    public func markUsed(_ invitation: Pending, on connection: PostgresConnection) async throws {
        let rows = try await connection.query(
            "UPDATE invitations SET used_at = now() WHERE id = \(invitation.id) AND used_at IS NULL AND expires_at > now() RETURNING 1",
            logger: logger
        ).collect()
        guard !rows.isEmpty else { throw DomainError.gone("Diese Einladung ist nicht mehr gültig: Sie wurde bereits verwendet.") }
    }
}
