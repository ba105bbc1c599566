import Foundation
import Logging
import PostgresNIO

/// Sending e-mail is itself a job, so a mail server that is down delays mail and loses none.
/// Every e-mail says only what kind of thing waits and links into Kreiswerk: no client data.
enum MailJobs {
    /// One notification, for a recipient who wants e-mail at once (queued by `notify()`).
    static func notification(_ mailer: Mailer) -> JobKind {
        JobKind(
            "mail.notification",
            queue: "mail",
            maxAttempts: 8,
            timeout: .seconds(30),
            backoff: .seconds(30),
            run: .standalone { context in
                guard let id = context.job.payload["notification"].flatMap(UUID.init(uuidString:)) else { return }
                let found = try await context.inTenant { connection in
                    try await connection.query(
                        """
                        SELECT u.email, n.kind, n.emailed_at IS NOT NULL FROM notifications n JOIN users u ON u.tenant_id = n.tenant_id AND u.id = n.user_id
                        WHERE n.id = \(id) AND u.active AND u.email_notifications = 'immediate'
                        """,
                        logger: context.logger
                    ).collect().first?.decode((String, String, Bool).self)
                }
                guard let (email, kind, alreadySent) = found, !alreadySent else { return }
                let sentence = NotificationKind(rawValue: kind)?.mailSentence ?? "Es gibt Neues für Sie."
                try await mailer.send(
                    Mailer.Message(
                        to: email,
                        subject: "Kreiswerk: \(sentence)",
                        body: """
                            Guten Tag,

                            \(sentence)

                            Bitte melden Sie sich an, um die Einzelheiten zu sehen:
                            \(mailer.configuration.publicURL)/benachrichtigungen/\(id.uuidString.lowercased())

                            Diese Nachricht enthält aus Datenschutzgründen keine Angaben zu Klientinnen und Klienten.
                            Wie Sie benachrichtigt werden, stellen Sie unter \(mailer.configuration.publicURL)/benachrichtigungen ein.
                            """
                    )
                )
                try await context.inTenant { connection in
                    try await connection.query("UPDATE notifications SET emailed_at = now() WHERE id = \(id)", logger: context.logger)
                }
            }
        )
    }

    /// For each user of a tenant who wants a daily summary and has unread, unsent notifications: one digest job.
    static func digestTenant(_ digestUser: JobKind) -> JobKind {
        JobKind(
            "mail.digest.tenant",
            queue: "mail",
            run: .inTenantTransaction { connection, context in
                let day = Day(context.now).iso
                let users = try await connection.query(
                    """
                    SELECT DISTINCT u.id FROM users u JOIN notifications n ON n.tenant_id = u.tenant_id AND n.user_id = u.id
                    WHERE u.tenant_id = \(context.job.tenantID) AND u.active AND u.email_notifications = 'daily'
                      AND n.emailed_at IS NULL AND n.read_at IS NULL
                    """,
                    logger: context.logger
                ).collect().map { try $0.decode(UUID.self) }
                for user in users {
                    try await JobQueue.enqueue(
                        digestUser,
                        tenant: context.job.tenantID,
                        payload: ["user": user.uuidString],
                        uniqueKey: "digest:\(user.uuidString):\(day)",
                        on: connection,
                        logger: context.logger
                    )
                }
            }
        )
    }

    /// One summary e-mail: how many notifications of which kind wait.
    static func digestUser(_ mailer: Mailer) -> JobKind {
        JobKind(
            "mail.digest.user",
            queue: "mail",
            maxAttempts: 8,
            timeout: .seconds(30),
            backoff: .seconds(60),
            run: .standalone { context in
                guard let user = context.job.payload["user"].flatMap(UUID.init(uuidString:)) else { return }
                let (email, waiting) = try await context.inTenant { connection in
                    let email = try await connection.query(
                        "SELECT email FROM users WHERE id = \(user) AND active AND email_notifications = 'daily'",
                        logger: context.logger
                    ).collect().first?.decode(String.self)
                    var waiting: [(UUID, String)] = []
                    for try await row in try await connection.query(
                        "SELECT id, kind FROM notifications WHERE user_id = \(user) AND emailed_at IS NULL AND read_at IS NULL ORDER BY created_at",
                        logger: context.logger
                    ).decode((UUID, String).self) {
                        waiting.append(row)
                    }
                    return (email, waiting)
                }
                guard let email, !waiting.isEmpty else { return }
                var counts: [String: Int] = [:]
                for (_, kind) in waiting { counts[NotificationKind(rawValue: kind)?.mailSentence ?? "Sonstiges.", default: 0] += 1 }
                let lines = counts.sorted { $0.key < $1.key }.map { "- \($0.value) × \($0.key)" }.joined(separator: "\n")
                try await mailer.send(
                    Mailer.Message(
                        to: email,
                        subject: "Kreiswerk: \(waiting.count) neue Benachrichtigung\(waiting.count == 1 ? "" : "en")",
                        body: """
                            Guten Tag,

                            in Kreiswerk warten \(waiting.count) ungelesene Benachrichtigung\(waiting.count == 1 ? "" : "en") auf Sie:

                            \(lines)

                            Zu Ihren Benachrichtigungen: \(mailer.configuration.publicURL)/benachrichtigungen

                            Diese Nachricht enthält aus Datenschutzgründen keine Angaben zu Klientinnen und Klienten.
                            Wie Sie benachrichtigt werden, stellen Sie unter \(mailer.configuration.publicURL)/benachrichtigungen ein.
                            """
                    )
                )
                let ids = waiting.map(\.0)
                try await context.inTenant { connection in
                    try await connection.query("UPDATE notifications SET emailed_at = now() WHERE id = ANY(\(ids))", logger: context.logger)
                }
            }
        )
    }
}
