import Foundation
import Logging
import PostgresNIO

/// A user's notifications and e-mail preference. Every query acts as the user, and the
/// `own_inbox` policy lets it see nobody else's notifications.
struct Inbox: Sendable {
    let database: Database

    struct Item: Sendable, Codable, Equatable {
        var id: UUID
        var kind: String
        var title: String
        var link: String
        var createdAt: Date
        var readAt: Date?
        enum CodingKeys: String, CodingKey {
            case id, kind, title, link
            case createdAt = "created_at", readAt = "read_at"
        }
    }

    /// How a user wants to hear of notifications by e-mail.
    enum EmailPreference: String, Sendable, Codable, CaseIterable {
        case immediate, daily, none

        var label: String {
            switch self {
            case .immediate: "Sofort je eine E-Mail"
            case .daily: "Eine tägliche Zusammenfassung (7 Uhr)"
            case .none: "Keine E-Mails, nur hier in Kreiswerk"
            }
        }

        static func parse(_ text: String?, field: String) throws(InvalidInput) -> EmailPreference {
            guard let text, let preference = EmailPreference(rawValue: text) else {
                throw InvalidInput(field: field, "Wählen Sie immediate (sofort), daily (täglich) oder none (keine E-Mails).")
            }
            return preference
        }
    }

    private func asUser<Result: Sendable>(_ identity: Identity, _ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        try await database.withTenant(identity.tenant.id, user: identity.userID, body)
    }

    func items(of identity: Identity, unreadOnly: Bool = false, limit: Int = 100) async throws -> [Item] {
        try await asUser(identity) { connection in
            var items: [Item] = []
            for try await (id, kind, title, link, created, read) in try await connection.query(
                """
                SELECT id, kind, title, link, created_at, read_at FROM notifications
                WHERE tenant_id = \(identity.tenant.id) AND user_id = \(identity.userID) AND (NOT \(unreadOnly) OR read_at IS NULL)
                ORDER BY read_at IS NOT NULL, created_at DESC LIMIT \(limit)
                """,
                logger: database.logger
            ).decode((UUID, String, String, String, Date, Date?).self) {
                items.append(Item(id: id, kind: kind, title: title, link: link, createdAt: created, readAt: read))
            }
            return items
        }
    }

    /// Marks one notification read and returns where it leads; 404 if it is not the user's.
    @discardableResult
    func markRead(_ id: UUID, by identity: Identity) async throws -> String {
        let link = try await asUser(identity) { connection in
            try await connection.query(
                """
                UPDATE notifications SET read_at = coalesce(read_at, now())
                WHERE tenant_id = \(identity.tenant.id) AND user_id = \(identity.userID) AND id = \(id)
                RETURNING link
                """,
                logger: database.logger
            ).collect().first?.decode(String.self)
        }
        guard let link else { throw DomainError.notFound("Diese Benachrichtigung gibt es nicht (oder sie ist nicht an Sie gerichtet).") }
        return link
    }

    func markAllRead(by identity: Identity) async throws {
        try await asUser(identity) { connection in
            try await connection.query(
                "UPDATE notifications SET read_at = now() WHERE tenant_id = \(identity.tenant.id) AND user_id = \(identity.userID) AND read_at IS NULL",
                logger: database.logger
            )
        }
    }

    func preference(of identity: Identity) async throws -> EmailPreference {
        try await asUser(identity) { connection in
            let text = try await connection.query(
                "SELECT email_notifications FROM users WHERE id = \(identity.userID)",
                logger: database.logger
            ).collect().first?.decode(String.self)
            return text.flatMap(EmailPreference.init(rawValue:)) ?? .daily
        }
    }

    func setPreference(_ preference: EmailPreference, by identity: Identity, clientAddress: String?) async throws {
        try await asUser(identity) { connection in
            try await connection.query(
                "UPDATE users SET email_notifications = \(preference.rawValue), updated_at = now() WHERE id = \(identity.userID)",
                logger: database.logger
            )
            try await AuditLog.record(
                AuditEvent(
                    "notifications.preference_changed",
                    by: identity,
                    objectType: "user",
                    objectID: identity.userID.uuidString,
                    detail: ["email": preference.rawValue],
                    clientAddress: clientAddress
                ),
                on: connection,
                logger: database.logger
            )
        }
    }
}
