import Foundation
import Logging
import PostgresNIO

/// The daily rules for one tenant, run by the `reminders.tenant` job in a transaction acting as
/// that tenant: reminders that come due, overdue referral feedback (and its escalation to the
/// district coordinators), untriaged level-2 reports, conference action items, consent that ran
/// out, and retention; for a district also the coordination layer's (`CoordinationSweep`). Each rule is one set-based statement; `notify()` keeps every notification
/// to one per occasion, so running the sweep twice for the same day notifies nobody twice.
public enum ReminderSweep {
    /// How many notifications each rule created (new ones only), and what retention and consent did.
    public struct Report: Sendable, Equatable, CustomStringConvertible {
        public var notified: [String: Int] = [:]
        public var grantsRevoked = 0
        public var clientsAnonymised = 0

        public var description: String {
            (notified.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" } + [
                "grants_revoked=\(grantsRevoked)", "anonymised=\(clientsAnonymised)",
            ])
            .joined(separator: " ")
        }
    }

    public static func run(tenant: UUID, asOf: Date, on connection: PostgresConnection, logger: Logger) async throws -> Report {
        let rules = try await rules(for: tenant, on: connection, logger: logger)
        let day = Day(asOf).iso
        var report = Report()
        func count(_ rule: String, _ query: PostgresQuery) async throws {
            report.notified[rule] = try await connection.query(query, logger: logger).collect().first?.decode(Int.self) ?? 0
        }

        try await count(
            "goal_review",
            """
            SELECT count(*) FILTER (WHERE notify(coalesce(v.id, k.owner_id), 'goal_review',
                       'Zielüberprüfung am ' || to_char(g.review_on, 'DD.MM.YYYY') || ' – Fall ' || k.case_number || \(unescaped: standInNote), '/faelle/' || k.id,
                       'goal-review:' || g.id || ':' || g.review_on || CASE WHEN g.review_on <= \(day)::date THEN ':due' ELSE ':before' END))::integer
            FROM goals g JOIN cases k ON k.tenant_id = g.tenant_id AND k.id = g.case_id
            CROSS JOIN LATERAL (SELECT app_stand_in_of(k.owner_id, \(day)::date) AS id) v
            WHERE g.tenant_id = \(tenant) AND g.outcome IS NULL AND k.closed_on IS NULL
              AND g.review_on BETWEEN \(day)::date AND \(day)::date + \(rules.goalReviewDaysBefore)::integer
            """
        )
        try await count(
            "reassessment",
            """
            SELECT count(*) FILTER (WHERE notify(coalesce(v.id, k.owner_id), 'reassessment',
                       'Wiedervorlage am ' || to_char(k.next_review_on, 'DD.MM.YYYY') || ' – Fall ' || k.case_number || \(unescaped: standInNote), '/faelle/' || k.id,
                       'reassessment:' || k.id || ':' || k.next_review_on || CASE WHEN k.next_review_on <= \(day)::date THEN ':due' ELSE ':before' END))::integer
            FROM cases k CROSS JOIN LATERAL (SELECT app_stand_in_of(k.owner_id, \(day)::date) AS id) v
            WHERE k.tenant_id = \(tenant) AND k.closed_on IS NULL
              AND k.next_review_on BETWEEN \(day)::date AND \(day)::date + \(rules.reassessmentDaysBefore)::integer
            """
        )
        try await count(
            "referral_feedback",
            """
            SELECT count(*) FILTER (WHERE notify(coalesce(app_stand_in_of(r.sent_by, \(day)::date), r.sent_by), 'referral_feedback',
                       'Noch keine Rückmeldung von ' || s.name || ' zur Verweisung vom '
                           || to_char(r.sent_at AT TIME ZONE 'Europe/Berlin', 'DD.MM.YYYY') || ' – Fall ' || k.case_number,
                       '/faelle/' || k.id, 'referral-feedback:' || r.id))::integer
            \(unescaped: waitingReferrals(joining: nil))
              AND r.sent_at < \(asOf) - make_interval(days => \(rules.referralFeedbackReminderDays)::integer)
            """
        )
        try await count(
            "referral_overdue",
            """
            SELECT count(*) FILTER (WHERE notify(c.id, 'referral_overdue',
                       (SELECT name FROM tenants WHERE id = r.tenant_id) || ': Verweisung an ' || s.name || ' seit '
                           || (\(day)::date - (r.sent_at AT TIME ZONE 'Europe/Berlin')::date) || ' Tagen ohne Rückmeldung',
                       '/benachrichtigungen', 'referral-overdue:' || r.id))::integer
            \(unescaped: waitingReferrals(joining: "district_coordinators() c(id)"))
              AND r.sent_at < \(asOf) - make_interval(days => \(rules.referralFeedbackEscalationDays)::integer)
            """
        )
        try await count(
            "report_triage",
            """
            SELECT count(*) FILTER (WHERE notify(u.id, 'report_triage',
                       'Meldung vom ' || to_char(r.reported_at AT TIME ZONE 'Europe/Berlin', 'DD.MM.YYYY') || ' wartet auf Entscheidung',
                       '/meldungen', 'report-triage:' || r.id))::integer
            FROM case_reports r
            JOIN users u ON u.tenant_id = \(tenant) AND u.active AND u.roles && ARRAY['case_manager', 'team_lead']
            WHERE r.recipient_tenant_id = \(tenant) AND app_holds_grant('report', r.id)
              AND NOT EXISTS (SELECT 1 FROM case_report_decisions d WHERE d.report_id = r.id)
              AND r.reported_at < \(asOf) - make_interval(days => \(rules.reportTriageDays)::integer)
            """
        )
        try await count(
            "action_item",
            """
            SELECT count(*) FILTER (WHERE notify(f.created_by, 'action_item',
                       'Aufgabe aus einer Fallkonferenz fällig am ' || to_char(i.due_on, 'DD.MM.YYYY') || ' (zuständig: ' || i.owner_name || ')',
                       '/konferenzen/' || f.id, 'action-item:' || i.id || ':' || i.due_on || CASE WHEN i.due_on <= \(day)::date THEN ':due' ELSE ':before' END))::integer
            FROM conference_action_items i JOIN case_conferences f ON f.id = i.conference_id AND f.tenant_id = i.tenant_id
            WHERE i.tenant_id = \(tenant) AND i.done_on IS NULL AND i.due_on <= \(day)::date + \(rules.actionItemDaysBefore)::integer
              AND f.cancelled_at IS NULL
            """
        )
        if try await connection.query("SELECT kind = 'district' FROM tenants WHERE id = \(tenant)", logger: logger).collect().first?.decode(Bool.self)
            == true
        {
            report.notified.merge(try await CoordinationSweep.run(district: tenant, asOf: asOf, rules: rules, on: connection, logger: logger)) { $1 }
        }
        // What cannot be undone never runs ahead of the real date, even in a sweep --as-of a future instant.
        let today = min(day, Day.today.iso)
        report.grantsRevoked = try await ConsentExpiry.revokeGrants(tenant: tenant, day: today, on: connection, logger: logger)
        report.clientsAnonymised = try await Retention.anonymise(
            tenant: tenant,
            closedBefore: today,
            months: rules.retentionMonths,
            on: connection,
            logger: logger
        )
        return report
    }

    /// While a case's owner is absent, its reminders go to their stand-in (`v.id`, migration 0025), and say for whom.
    private static let standInNote = """
        CASE WHEN v.id IS NULL THEN '' ELSE ' (in Vertretung für ' || (SELECT u.display_name FROM users u WHERE u.id = k.owner_id) || ')' END
        """

    /// The acting tenant's referrals that still wait for an answer: shared (live grant), in an open
    /// case, with neither feedback nor a decline. `joining` adds a row source (the coordinators).
    private static func waitingReferrals(joining extra: String?) -> String {
        """
        FROM \(extra.map { "\($0), " } ?? "")referrals r
        JOIN cases k ON k.tenant_id = r.tenant_id AND k.id = r.case_id
        JOIN services s ON s.id = r.service_id
        WHERE r.tenant_id = app_current_tenant() AND k.closed_on IS NULL
          AND EXISTS (SELECT 1 FROM access_grants g
                      WHERE g.tenant_id = r.tenant_id AND g.object_type = 'referral' AND g.object_id = r.id AND g.revoked_at IS NULL)
          AND NOT EXISTS (SELECT 1 FROM referral_responses x WHERE x.referral_id = r.id AND x.kind IN ('feedback', 'declined'))
        """
    }

    /// The periods of the tenant's district (a district's own for itself); defaults where none are set.
    static func rules(for tenant: UUID, on connection: PostgresConnection, logger: Logger) async throws -> ReminderRules {
        let json = try await connection.query(
            """
            SELECT d.reminder_rules::text FROM tenants t JOIN tenants d ON d.id = coalesce(t.district_id, t.id) WHERE t.id = \(tenant)
            """,
            logger: logger
        ).collect().first?.decode(String?.self)
        return ReminderRules.decode(json: json) ?? ReminderRules()
    }
}
