import Foundation
import Logging
import PostgresNIO

/// The district's daily rules, run with the other reminder rules by the `reminders.tenant` job acting as
/// the district: problems whose level deadline passed are marked overdue and the coordinators reminded
/// (where the district turned automatic escalation on, those at the municipal level go to the district
/// level first); towns that have not answered a poll are reminded once; committee members hear of
/// meetings ahead and of the agenda deadline; owners of project-group tasks hear of them before they are
/// due. Other tenants have none of these rows.
enum CoordinationSweep {
    static func run(district: UUID, asOf: Date, rules: ReminderRules, on connection: PostgresConnection, logger: Logger) async throws -> [String: Int]
    {
        let day = Day(asOf).iso
        var notified: [String: Int] = [:]
        func count(_ rule: String, _ query: PostgresQuery) async throws {
            notified[rule] = try await connection.query(query, logger: logger).collect().first?.decode(Int.self) ?? 0
        }
        notified["problem_escalated"] = try await Escalation.move(
            district: district,
            problems: nil,
            asOf: asOf,
            rules: rules,
            reason: nil,
            actor: "Kreiswerk (Frist)",
            byScheduler: true,
            on: connection,
            logger: logger
        )
        notified["problem_overdue"] = try await Escalation.remindOverdue(district: district, asOf: asOf, on: connection, logger: logger)
        try await count(
            "poll_reminder",
            """
            SELECT count(*) FILTER (WHERE notify(c.user_id, 'problem_poll',
                                                 'Erinnerung: Die Koordinierungsstelle wartet auf Ihre Antwort zur Umfrage „' || p.problem_title || '“',
                                                 '/umfragen#poll-' || p.id, 'poll-reminder:' || p.id))::integer
            FROM problem_polls p JOIN district_case_managers() c ON c.tenant_id = ANY (p.asked_tenants)
            WHERE p.tenant_id = \(district) AND p.asked_at < \(asOf) - make_interval(days => \(rules.pollReminderDays)::integer)
              AND NOT EXISTS (SELECT 1 FROM poll_answers a WHERE a.poll_id = p.id AND a.tenant_id = c.tenant_id)
            """
        )
        // Members with an account of the group (project group) or of the steering group (group_id NULL), and the coordinators.
        try await count(
            "committee_meeting",
            """
            SELECT count(*) FILTER (WHERE notify(r.user_id, 'committee_meeting',
                       coalesce(g.name, 'Lenkungsgruppe') || ': Sitzung am ' || to_char(m.scheduled_at AT TIME ZONE 'Europe/Berlin', 'DD.MM.YYYY HH24:MI'),
                       CASE WHEN m.group_id IS NULL THEN '/gremien/lenkungsgruppe' ELSE '/gremien/gruppen/' || m.group_id END,
                       'meeting:' || m.id || ':' || r.user_id))::integer
            FROM committee_meetings m LEFT JOIN project_groups g ON g.id = m.group_id
            JOIN LATERAL (SELECT user_id FROM project_group_members x WHERE x.group_id = m.group_id AND x.user_id IS NOT NULL AND x.left_at IS NULL
                          UNION SELECT user_id FROM steering_members s WHERE m.group_id IS NULL AND s.tenant_id = m.tenant_id AND s.user_id IS NOT NULL AND s.left_on IS NULL
                          UNION SELECT id FROM users u WHERE u.tenant_id = m.tenant_id AND u.active AND 'district_coordinator' = ANY (u.roles)) r ON true
            WHERE m.tenant_id = \(district)
              AND (m.scheduled_at AT TIME ZONE 'Europe/Berlin')::date BETWEEN \(day)::date AND \(day)::date + \(rules.meetingReminderDaysBefore)::integer
            """
        )
        try await count(
            "agenda_deadline",
            """
            SELECT count(*) FILTER (WHERE notify(r.user_id, 'committee_meeting',
                       'Lenkungsgruppe: heute ist Tagesordnungsschluss für die Sitzung am ' || to_char(m.scheduled_at AT TIME ZONE 'Europe/Berlin', 'DD.MM.YYYY'),
                       '/gremien/lenkungsgruppe', 'agenda-deadline:' || m.id))::integer
            FROM committee_meetings m
            JOIN LATERAL (SELECT user_id FROM steering_members s WHERE s.tenant_id = m.tenant_id AND s.user_id IS NOT NULL AND s.left_on IS NULL
                          UNION SELECT id FROM users u WHERE u.tenant_id = m.tenant_id AND u.active AND 'district_coordinator' = ANY (u.roles)) r ON true
            WHERE m.tenant_id = \(district) AND m.group_id IS NULL AND m.agenda_deadline = \(day)::date
            """
        )
        try await count(
            "group_task",
            """
            SELECT count(*) FILTER (WHERE notify(r.user_id, 'group_task',
                       g.name || ': Aufgabe fällig am ' || to_char(k.due_on, 'DD.MM.YYYY') || ' (zuständig: ' || k.owner_name || ')',
                       '/gremien/gruppen/' || g.id,
                       'group-task:' || k.id || ':' || k.due_on || CASE WHEN k.due_on <= \(day)::date THEN ':due' ELSE ':before' END))::integer
            FROM group_tasks k JOIN project_groups g ON g.id = k.group_id
            JOIN LATERAL (SELECT k.owner_user_id AS user_id WHERE k.owner_user_id IS NOT NULL
                          UNION SELECT id FROM users u WHERE k.owner_user_id IS NULL AND u.tenant_id = k.tenant_id AND u.active
                                                       AND 'district_coordinator' = ANY (u.roles)) r ON true
            WHERE k.tenant_id = \(district) AND k.done_on IS NULL AND k.due_on <= \(day)::date + \(rules.groupTaskDaysBefore)::integer
            """
        )
        return notified
    }
}
