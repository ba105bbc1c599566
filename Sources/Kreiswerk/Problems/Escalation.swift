import Foundation
import Logging
import PostgresNIO

/// Taking open problems up the ladder is the coordinators' decision (concept section 7). When a level's
/// deadline passes, the scheduler reminds them and marks the problem overdue; only where the district's
/// tenant file turns `automatic_escalation` on does it take a problem past its municipal deadline to the
/// district level itself, and never into the steering group, which receives written proposals.
/// Runs acting as the district.
enum Escalation {
    /// Moves `problems` (or, when nil, every open municipal problem of the district whose deadline is past at
    /// `asOf`, if the district escalates automatically) up one level, records why, and tells the district's
    /// coordinators, the raising case manager and the members of the group that had the problem. Returns how many moved.
    static func move(
        district: UUID,
        problems: [UUID]?,
        asOf: Date,
        rules: ReminderRules,
        reason: String?,
        actor: String,
        byScheduler: Bool,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws -> Int {
        guard problems != nil || rules.automaticEscalation else { return 0 }
        let moved = try await connection.query(
            """
            UPDATE structural_problems p
            SET level = n.next, level_since = \(asOf), group_id = NULL, overdue_since = NULL, version = p.version + \(byScheduler ? 1 : 0),
                level_deadline = \(asOf) + make_interval(weeks => CASE n.next WHEN 'district' THEN \(rules.districtDeadlineWeeks)
                                                                               WHEN 'steering' THEN nullif(\(rules.steeringDeadlineWeeks), 0) END::integer)
            FROM (SELECT id, level AS previous, group_id AS previous_group,
                         CASE level WHEN 'municipal' THEN 'district' WHEN 'district' THEN 'steering' ELSE 'state' END AS next
                  FROM structural_problems
                  WHERE tenant_id = \(district) AND status = 'open' AND level <> 'state'
                    AND (CASE WHEN \(problems)::uuid[] IS NULL THEN level = 'municipal' AND level_deadline <= \(asOf) ELSE id = ANY(\(problems)) END)
                  FOR UPDATE) n
            WHERE p.id = n.id
            RETURNING p.id, p.title, p.raised_by, n.previous, n.next, n.previous_group
            """,
            logger: logger
        ).collect().map { try $0.decode((UUID, String, UUID, String, String, UUID?).self) }
        guard !moved.isEmpty else { return 0 }
        let coordinators = try await coordinators(of: district, on: connection, logger: logger)
        for (id, title, raiser, previous, next, group) in moved {
            let from = LadderLevel(rawValue: previous)!
            let to = LadderLevel(rawValue: next)!
            let why =
                reason ?? "Die Frist der Ebene „\(from.label)“ ist abgelaufen; der Kreis gibt Probleme dann selbsttätig an die Kreisebene weiter."
            try await Problems.record(
                .escalated,
                id,
                raisedBy: nil,
                district: district,
                from: from,
                to: to,
                text: why,
                actor: actor,
                byScheduler: byScheduler,
                on: connection,
                logger: logger
            )
            var recipients = coordinators + [raiser]
            if let group { recipients += try await ProjectGroups.memberAccounts(of: group, on: connection, logger: logger) }
            for recipient in Set(recipients) {
                try await Notifier.notify(
                    recipient,
                    .problemEscalated,
                    title: "Systemproblem „\(title)“ \(byScheduler ? "nach Fristablauf " : "")weitergegeben an: \(to.label)",
                    link: Problems.link(id),
                    dedupeKey: "problem-escalated:\(id.uuidString.lowercased()):\(next)",
                    on: connection,
                    logger: logger
                )
            }
        }
        return moved.count
    }

    /// Marks the open problems whose level deadline passed by `asOf` overdue (once per level and deadline), records
    /// it in their history and reminds the coordinators and the members of the group working on each. Returns how many.
    static func remindOverdue(district: UUID, asOf: Date, on connection: PostgresConnection, logger: Logger) async throws -> Int {
        let overdue = try await connection.query(
            """
            UPDATE structural_problems SET overdue_since = level_deadline
            WHERE tenant_id = \(district) AND status = 'open' AND level_deadline <= \(asOf) AND overdue_since IS NULL
            RETURNING id, title, level, level_deadline, group_id
            """,
            logger: logger
        ).collect().map { try $0.decode((UUID, String, String, Date, UUID?).self) }
        guard !overdue.isEmpty else { return 0 }
        let coordinators = try await coordinators(of: district, on: connection, logger: logger)
        for (id, title, level, deadline, group) in overdue {
            let level = LadderLevel(rawValue: level)!
            let since = GermanFormat.date(deadline)
            try await Problems.record(
                .overdue,
                id,
                raisedBy: nil,
                district: district,
                to: level,
                text: "Die Frist der Ebene „\(level.label)“ ist am \(since) abgelaufen. "
                    + "Die Koordinierungsstelle entscheidet: weitergeben, lösen oder eine neue Frist setzen.",
                actor: "Kreiswerk (Frist)",
                byScheduler: true,
                on: connection,
                logger: logger
            )
            var recipients = coordinators
            if let group { recipients += try await ProjectGroups.memberAccounts(of: group, on: connection, logger: logger) }
            for recipient in Set(recipients) {
                try await Notifier.notify(
                    recipient,
                    .problemOverdue,
                    title: "Systemproblem „\(title)“: Frist der Ebene „\(level.label)“ überschritten seit \(since)",
                    link: Problems.link(id),
                    dedupeKey: "problem-overdue:\(id.uuidString.lowercased()):\(level.rawValue):\(Day(deadline).iso)",
                    on: connection,
                    logger: logger
                )
            }
        }
        return overdue.count
    }

    static func coordinators(of district: UUID, on connection: PostgresConnection, logger: Logger) async throws -> [UUID] {
        try await connection.query(
            "SELECT id FROM users WHERE tenant_id = \(district) AND active AND 'district_coordinator' = ANY (roles)",
            logger: logger
        ).collect().map { try $0.decode(UUID.self) }
    }
}
