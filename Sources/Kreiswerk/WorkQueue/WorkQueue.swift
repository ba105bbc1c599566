import Foundation
import Logging
import PostgresNIO

/// The start page as a work queue (issue 19): what needs the signed-in person now, each item linking to where it is done.
/// Coordinators: problems at or past their level's deadline, polls to evaluate, district conferences to plan, prepare or
/// moderate, the next steering meeting with its agenda deadline and papers, referrals waiting for feedback past 28 days
/// (counted per town). Case workers and counsellors: what is due today in their own cases, new referrals to their
/// services, reports to decide, polls to answer, the conferences of the coming week.
///
/// One call, one transaction, a fixed number of statements whatever the queue holds: acting (1), the visible tenants (1),
/// the queue (1, a single statement for the person's roles; none for roles without one).
struct WorkQueue: Sendable {
    /// One thing to do.
    struct Item: Sendable, Equatable {
        /// What kind of thing: `problem`, `poll`, `conference`, `steering`, `papers`, `referrals`, `documentation` (coordinators);
        /// `review`, `goal`, `action_item`, `referral`, `report`, `poll`, `conference` (case work and counselling).
        var kind: String
        var title: String
        var detail: String?
        /// Where it is done.
        var link: String
        var count: Int?
    }

    /// The start page: the tenants (as before), what the identity may do, and the queue.
    struct Start: Sendable {
        var tenants: [TenantDirectory.Summary]
        var scope: Scope
        var mayOnboard: Bool
        var mayWorkCases: Bool
        var items: [Item]
        /// How many statements the page took (the transaction's BEGIN and COMMIT aside).
        var statements: Int
    }

    /// Referrals wait this long for a service's feedback before they are the coordinators' concern (as the reminder sweep).
    static let referralWaitDays = 28

    let database: Database
    let policy: Policy

    var logger: Logger { database.logger }

    /// The start page of `identity` as of `now`, in one transaction.
    func start(for identity: Identity, now: Date = Date()) async throws -> Start {
        let district = policy.readableDistrict(of: identity, for: .coordinateDistrict)
        return try await database.withTenant(identity.tenant.id, user: identity.userID, district: district) { connection in
            var statements = 1
            let tenants = try await TenantDirectory.visible(to: identity, policy: policy, on: connection, logger: logger)
            statements += 1
            var items: [Item] = []
            if let query = Self.queue(for: identity, policy: policy, now: now) {
                for try await (kind, title, detail, link, count) in try await connection.query(query, logger: logger).decode(
                    (String, String, String?, String, Int?).self
                ) {
                    items.append(Item(kind: kind, title: title, detail: detail, link: link, count: count))
                }
                statements += 1
            }
            return Start(
                tenants: tenants,
                scope: policy.scope(of: identity, for: .viewTenants),
                mayOnboard: policy.allows(identity, .onboardTenants),
                mayWorkCases: policy.allows(identity, .workCases),
                items: items,
                statements: statements
            )
        }
    }

    /// The one statement of the identity's queue; nil for roles that have none (platform, administration, partners).
    static func queue(for identity: Identity, policy: Policy, now: Date) -> PostgresQuery? {
        if identity.tenant.kind == "district" && identity.has(.districtCoordinator) { return coordinators(now) }
        let worksCases = policy.allows(identity, .workCases)
        let answersReferrals = policy.allows(identity, .answerReferrals)
        guard worksCases || answersReferrals else { return nil }
        return caseWork(
            now,
            worksCases: worksCases,
            answersPolls: policy.allows(identity, .raiseProblems),
            receivesOwn: identity.has(.counsellor)
        )
    }

    static func coordinators(_ now: Date) -> PostgresQuery {
        """
        WITH asof AS (SELECT \(now)::timestamptz AS at, (\(now)::timestamptz AT TIME ZONE 'Europe/Berlin')::date AS day)
        SELECT kind, title, detail, link, n FROM (
            SELECT 1 AS section, 'problem' AS kind, p.title,
                   CASE WHEN p.overdue_since IS NOT NULL
                        THEN 'Frist überschritten seit ' || to_char(p.overdue_since AT TIME ZONE 'Europe/Berlin', 'DD.MM.YYYY')
                        ELSE 'Frist endet heute' END AS detail,
                   '/probleme/' || p.id AS link, NULL::integer AS n, coalesce(p.overdue_since, p.level_deadline) AS at
            FROM structural_problems p, asof
            WHERE p.tenant_id = app_current_tenant() AND p.status = 'open'
              AND (p.overdue_since IS NOT NULL OR (p.level_deadline AT TIME ZONE 'Europe/Berlin')::date <= asof.day)
            UNION ALL
            SELECT 2, 'poll', 'Umfrage auswerten: ' || q.problem_title,
                   answered || ' von ' || cardinality(q.asked_tenants) || ' Stellen haben geantwortet',
                   '/probleme/' || q.problem_id, NULL, q.asked_at
            FROM problem_polls q JOIN structural_problems p ON p.id = q.problem_id CROSS JOIN asof
            CROSS JOIN LATERAL (SELECT count(DISTINCT a.tenant_id)::integer AS answered FROM poll_answers a WHERE a.poll_id = q.id) x
            WHERE q.tenant_id = app_current_tenant() AND p.status = 'open' AND p.level_since <= q.asked_at
              AND (x.answered >= cardinality(q.asked_tenants) OR q.asked_at < asof.at - interval '14 days')
            UNION ALL
            SELECT 3, 'conference',
                   CASE WHEN f.lead_tenant_id IS NOT NULL AND f.planned_at IS NULL THEN 'Fallkonferenz planen: '
                        WHEN f.lead_tenant_id IS NOT NULL THEN 'Fallkonferenz vorbereiten: '
                        WHEN f.moderator_user_id IS NULL THEN 'Moderation übernehmen? '
                        ELSE 'Fallkonferenz moderieren: ' END || f.title,
                   t.name || CASE WHEN f.planned_at IS NULL THEN ', Wunschtermin ' ELSE ', am ' END
                       || to_char(f.scheduled_at AT TIME ZONE 'Europe/Berlin', 'DD.MM.YYYY HH24:MI'),
                   '/konferenzen/' || f.id, NULL, f.scheduled_at
            FROM case_conferences f JOIN tenants t ON t.id = f.tenant_id CROSS JOIN asof
            WHERE f.cancelled_at IS NULL
              AND ((f.lead_tenant_id = app_current_tenant() AND (f.planned_at IS NULL OR f.scheduled_at >= asof.at))
                   OR (f.kind = 'municipal' AND f.moderator_tenant_id = app_current_tenant() AND f.scheduled_at >= asof.at
                       AND (f.moderator_user_id IS NULL OR f.moderator_user_id = app_current_user())))
            UNION ALL
            (SELECT 4, 'steering', 'Nächste Sitzung der Lenkungsgruppe am ' || to_char(m.scheduled_at AT TIME ZONE 'Europe/Berlin', 'DD.MM.YYYY'),
                    concat_ws('; ',
                              'Frist für die Tagesordnung: ' || to_char(m.agenda_deadline, 'DD.MM.YYYY')
                                  || CASE WHEN m.agenda_deadline < asof.day THEN ' (abgelaufen)' ELSE '' END,
                              (SELECT count(*) FROM decision_papers d WHERE d.meeting_id = m.id) || ' Vorlage(n) auf der Tagesordnung'),
                    '/gremien/lenkungsgruppe', NULL, m.scheduled_at
             FROM committee_meetings m CROSS JOIN asof
             WHERE m.tenant_id = app_current_tenant() AND m.group_id IS NULL AND m.scheduled_at >= asof.at
             ORDER BY m.scheduled_at LIMIT 1)
            UNION ALL
            SELECT 4, 'papers', 'Vorlagen für die Lenkungsgruppe ohne Sitzung', count(*) || ' Vorlage(n) noch keiner Sitzung zugeordnet',
                   '/gremien/lenkungsgruppe', count(*)::integer, NULL
            FROM decision_papers d
            WHERE d.tenant_id = app_current_tenant() AND d.status = 'submitted' AND d.meeting_id IS NULL
            HAVING count(*) > 0
            UNION ALL
            SELECT 5, 'referrals', w.tenant_name,
                   w.waiting || CASE WHEN w.waiting = 1 THEN ' Verweisung wartet' ELSE ' Verweisungen warten' END
                       || ' seit über \(unescaped: "\(referralWaitDays)") Tagen auf Rückmeldung',
                   '/mandanten/' || w.tenant_slug, w.waiting, NULL
            FROM district_referrals_waiting(\(referralWaitDays)::integer) w
            UNION ALL
            SELECT 6, 'documentation', 'Änderungsvorschläge zum Dokumentationsstandard',
                   count(*) || CASE WHEN count(*) = 1 THEN ' Vorschlag wartet' ELSE ' Vorschläge warten' END || ' auf Ihre Entscheidung',
                   '/dokumentationsstandard', count(*)::integer, NULL
            FROM documentation_standard_requests r
            WHERE r.tenant_id = app_current_tenant() AND r.decision IS NULL
            HAVING count(*) > 0
        ) queue
        ORDER BY section, at NULLS LAST, title
        """
    }

    /// `receivesOwn`: a counsellor, who also receives the referrals of their own tenant's case workers; each referral
    /// only while its grant is live and never to the person who sent it (`Referrals.received`).
    static func caseWork(_ now: Date, worksCases: Bool, answersPolls: Bool, receivesOwn: Bool) -> PostgresQuery {
        """
        WITH asof AS (SELECT \(now)::timestamptz AS at, (\(now)::timestamptz AT TIME ZONE 'Europe/Berlin')::date AS day)
        SELECT kind, title, detail, link, n FROM (
            SELECT 1 AS section, 'review' AS kind, 'Wiedervorlage Fall ' || k.case_number AS title,
                   'fällig am ' || to_char(k.next_review_on, 'DD.MM.YYYY') AS detail, '/faelle/' || k.id AS link, NULL::integer AS n,
                   k.next_review_on::timestamptz AS at
            FROM cases k, asof
            WHERE \(worksCases) AND k.tenant_id = app_current_tenant() AND k.owner_id = app_current_user() AND k.closed_on IS NULL
              AND k.next_review_on <= asof.day
            UNION ALL
            SELECT 1, 'goal', 'Zielüberprüfung Fall ' || k.case_number, g.text || ' – fällig am ' || to_char(g.review_on, 'DD.MM.YYYY'),
                   '/faelle/' || k.id, NULL, g.review_on::timestamptz
            FROM goals g JOIN cases k ON k.tenant_id = g.tenant_id AND k.id = g.case_id CROSS JOIN asof
            WHERE \(worksCases) AND k.tenant_id = app_current_tenant() AND k.owner_id = app_current_user() AND k.closed_on IS NULL
              AND g.outcome IS NULL AND g.review_on <= asof.day
            UNION ALL
            SELECT 1, 'action_item', 'Aufgabe aus der Fallkonferenz „' || f.title || '“',
                   i.text || ' (' || i.owner_name || ') – fällig am ' || to_char(i.due_on, 'DD.MM.YYYY'),
                   '/konferenzen/' || f.id, NULL, i.due_on::timestamptz
            FROM conference_action_items i JOIN case_conferences f ON f.id = i.conference_id CROSS JOIN asof
            WHERE \(worksCases) AND f.tenant_id = app_current_tenant() AND f.created_by = app_current_user() AND f.cancelled_at IS NULL
              AND i.done_on IS NULL AND i.due_on <= asof.day
            UNION ALL
            SELECT 2, 'referral', 'Neue Verweisung an ' || s.name,
                   'von ' || t.name || ' am ' || to_char(r.sent_at AT TIME ZONE 'Europe/Berlin', 'DD.MM.YYYY'),
                   '/verweisungen', NULL, r.sent_at
            FROM referrals r JOIN services s ON s.id = r.service_id JOIN tenants t ON t.id = r.tenant_id
            WHERE \(unescaped: Referrals.received(counsellor: receivesOwn))
              AND NOT EXISTS (SELECT 1 FROM referral_responses x WHERE x.referral_id = r.id)
            UNION ALL
            SELECT 3, 'report', 'Meldung wartet auf Entscheidung',
                   'eingegangen am ' || to_char(r.reported_at AT TIME ZONE 'Europe/Berlin', 'DD.MM.YYYY'), '/meldungen', NULL, r.reported_at
            FROM case_reports r
            WHERE \(worksCases) AND r.recipient_tenant_id = app_current_tenant()
              AND NOT EXISTS (SELECT 1 FROM case_report_decisions d WHERE d.report_id = r.id)
            UNION ALL
            SELECT 4, 'poll', 'Umfrage beantworten: ' || p.problem_title, 'gefragt am ' || to_char(p.asked_at AT TIME ZONE 'Europe/Berlin', 'DD.MM.YYYY'),
                   '/umfragen', NULL, p.asked_at
            FROM problem_polls p
            WHERE \(answersPolls) AND app_current_tenant() = ANY (p.asked_tenants)
              AND NOT EXISTS (SELECT 1 FROM poll_answers a WHERE a.poll_id = p.id AND a.tenant_id = app_current_tenant())
            UNION ALL
            SELECT 5, 'conference', 'Fallkonferenz „' || f.title || '“',
                   'am ' || to_char(f.scheduled_at AT TIME ZONE 'Europe/Berlin', 'DD.MM.YYYY HH24:MI')
                       || CASE WHEN f.planned_at IS NULL THEN ' (Wunschtermin; die Koordinierungsstelle plant)' ELSE '' END,
                   '/konferenzen/' || f.id, NULL, f.scheduled_at
            FROM case_conferences f CROSS JOIN asof
            WHERE f.cancelled_at IS NULL AND f.scheduled_at >= asof.at AND f.scheduled_at < asof.at + interval '7 days'
        ) queue
        ORDER BY section, at NULLS LAST, title
        """
    }
}
