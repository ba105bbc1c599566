import Foundation
import Logging
import PostgresNIO

/// Taking open problems up the ladder, by a coordinator or by the scheduler when a level's
/// deadline has passed. Runs acting as the district.
enum Escalation {
    /// Moves `problems` (or, when nil, every open problem of the district whose deadline is past at `asOf`)
    /// up one level, records why, and tells the district's coordinators, the raising case manager and the
    /// members of the group that had the problem. Returns how many moved.
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
        let moved = try await connection.query(
            """
            UPDATE structural_problems p
            SET level = n.next, level_since = \(asOf), group_id = NULL, version = p.version + \(byScheduler ? 1 : 0),
                level_deadline = \(asOf) + make_interval(weeks => CASE n.next WHEN 'district' THEN \(rules.districtDeadlineWeeks)
                                                                               WHEN 'steering' THEN nullif(\(rules.steeringDeadlineWeeks), 0) END::integer)
            FROM (SELECT id, level AS previous, group_id AS previous_group,
                         CASE level WHEN 'municipal' THEN 'district' WHEN 'district' THEN 'steering' ELSE 'state' END AS next
                  FROM structural_problems
                  WHERE tenant_id = \(district) AND status = 'open' AND level <> 'state'
                    AND (CASE WHEN \(problems)::uuid[] IS NULL THEN level_deadline <= \(asOf) ELSE id = ANY(\(problems)) END)
                  FOR UPDATE) n
            WHERE p.id = n.id
            RETURNING p.id, p.title, p.raised_by, n.previous, n.next, n.previous_group
            """,
            logger: logger
        ).collect().map { try $0.decode((UUID, String, UUID, String, String, UUID?).self) }
        guard !moved.isEmpty else { return 0 }
        let coordinators = try await connection.query(
            "SELECT id FROM users WHERE tenant_id = \(district) AND active AND 'district_coordinator' = ANY (roles)",
            logger: logger
        ).collect().map { try $0.decode(UUID.self) }
        for (id, title, raiser, previous, next, group) in moved {
            let from = LadderLevel(rawValue: previous)!
            let to = LadderLevel(rawValue: next)!
            let why = reason ?? "Die Frist der Ebene „\(from.label)“ ist abgelaufen."
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
}
