import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import Testing

@testable import Kreiswerk

/// Each rule of the daily sweep, run through `--as-of` semantics against prepared cases.
@Suite struct ReminderRuleTests {
    static let logger = TestDatabase.logger

    /// What `kreiswerk jobs sweep --as-of` does: every schedule's job as of `instant`, then every due job.
    static func sweep(_ db: TestDatabase, asOf instant: Date, mail: [String] = ["/bin/true"]) async throws {
        let kinds = Jobs.kinds(mailer: Mailer(configuration: .init(command: mail, publicURL: "http://kreiswerk.test")))
        let schedules = Jobs.schedules(kinds)
        let worker = JobWorker(
            configuration: .init(firesSchedules: false),
            kinds: kinds,
            database: db.worker,
            schedules: schedules,
            clock: { instant }
        )
        _ = try await schedules.sweep(asOf: instant, with: worker)
        let failed = try await db.owner.withTransaction { connection in
            try await connection.query("SELECT kind, last_error FROM jobs WHERE state <> 'succeeded'", logger: logger).collect()
                .map { try $0.decode((String, String?).self) }
        }
        #expect(failed.isEmpty, "every job of the sweep ran: \(failed)")
    }

    struct Sent: Equatable, CustomStringConvertible {
        var user: UUID
        var kind: String
        var title: String
        var link: String
        var description: String { "\(kind) → \(user): \(title) (\(link))" }
    }

    static func notifications(_ db: TestDatabase) async throws -> [Sent] {
        try await db.owner.withTransaction { connection in
            try await connection.query("SELECT user_id, kind, title, link FROM notifications ORDER BY created_at, kind", logger: logger).collect()
                .map {
                    let (user, kind, title, link) = try $0.decode((UUID, String, String, String).self)
                    return Sent(user: user, kind: kind, title: title, link: link)
                }
        }
    }

    static func days(_ count: Int) -> Date { Date().addingTimeInterval(Double(count) * 86_400) }

    @Test func goalReviewsAndReassessmentsRemindTheCaseManagerBeforeAndOnTheDayOnce() async throws {
        try await TestApp.with { db, people, client in
            let cm = people["wittenCM"]
            let clientID = try await CaseWorkflowTests.register(client, cm.token)
            let (caseID, _) = try await CaseWorkflowTests.openCase(client, cm.token, clientID)
            let reviewOn = Day(Self.days(5)).iso
            let goal = try await client.api(
                .post,
                "/api/v1/cases/\(caseID)/goals",
                token: cm.token,
                json: #"{"area":"language","text":"B1-Kurs beginnen","agreed_on":"\#(Day(Date()).iso)","review_on":"\#(reviewOn)"}"#
            )
            #expect(goal.status == .created, "\(goal.text)")
            try await db.owner.withTransaction {
                try await $0.query(
                    "UPDATE cases SET next_review_on = \(Day(Self.days(10)).iso)::date WHERE id = \(UUID(uuidString: caseID)!)",
                    logger: Self.logger
                )
            }
            try await Self.sweep(db, asOf: Self.days(1))
            #expect(try await Self.notifications(db).isEmpty, "five days ahead is outside the three-day window")
            try await Self.sweep(db, asOf: Self.days(3))
            var sent = try await Self.notifications(db)
            #expect(sent.map(\.kind) == ["goal_review"])
            #expect(sent.first?.user == cm.id)
            #expect(sent.first?.link == "/faelle/\(caseID.lowercased())")
            #expect(sent.first?.title.contains("Fall WIT-") == true)
            #expect(sent.first?.title.contains("Amira") == false && sent.first?.title.contains("Haddad") == false)
            try await Self.sweep(db, asOf: Self.days(4))
            #expect(try await Self.notifications(db).count == 1, "once before, however often the sweep runs")
            try await Self.sweep(db, asOf: Self.days(5))
            try await Self.sweep(db, asOf: Self.days(8))
            sent = try await Self.notifications(db)
            #expect(sent.map(\.kind) == ["goal_review", "goal_review", "reassessment"], "\(sent)")
            // A reviewed goal reminds nobody.
            try await Self.sweep(db, asOf: Self.days(10))
            #expect(try await Self.notifications(db).count == 4)
        }
    }

    @Test func aReferralWithoutFeedbackRemindsTheSenderThenTellsTheCoordinators() async throws {
        try await TestApp.with { db, people, client in
            _ = try await ReferralGrantTests.refer(client, people)
            try await Self.sweep(db, asOf: Self.days(13))
            #expect(try await Self.notifications(db).isEmpty)
            try await Self.sweep(db, asOf: Self.days(15))
            var sent = try await Self.notifications(db)
            #expect(sent.map(\.kind) == ["referral_feedback"])
            #expect(sent.first?.user == people["wittenCM"].id)
            try await Self.sweep(db, asOf: Self.days(29))
            sent = try await Self.notifications(db)
            #expect(sent.map(\.kind) == ["referral_feedback", "referral_overdue"])
            let escalation = try #require(sent.last)
            #expect(escalation.user == people["coordinator"].id, "the district's coordinator, in the district's tenant")
            #expect(escalation.title.hasPrefix("Stadt Witten: Verweisung an"), "\(escalation.title)")
            #expect(!escalation.title.contains("Amira") && !escalation.title.contains("WIT-"), "no client, no case number for the district")
            // The coordinator reads it in their own inbox, through the API.
            let inbox = try await client.api(.get, "/api/v1/notifications", token: people["coordinator"].token).array
            #expect(inbox.map { $0["kind"] as? String } == ["referral_overdue"])
        }
    }

    @Test func anUntriagedReportRemindsTheTownsTeamAndActionItemsRemindTheOrganiser() async throws {
        try await TestApp.with { db, people, client in
            #expect(try await client.api(.post, "/api/v1/reports", token: people["partner"].token, json: Level2ReportTests.report).status == .created)
            let cm = people["wittenCM"].token
            let clientID = try await CaseWorkflowTests.register(client, cm)
            let (caseID, _) = try await CaseWorkflowTests.openCase(client, cm, clientID)
            let conference = try await ConferenceTests.plan(client, cm, caseID)
            let conferenceID = try #require(conference.object["id"] as? String)
            let item = try await client.api(
                .post,
                "/api/v1/conferences/\(conferenceID)/action-items",
                token: cm,
                json: #"{"text":"Wohnungsamt anrufen","owner":"AWO EN","due_on":"\#(Day(Self.days(6)).iso)"}"#
            )
            #expect(item.status == .created, "\(item.text)")
            try await Self.sweep(db, asOf: Self.days(4))
            let sent = try await Self.notifications(db)
            let triage = sent.filter { $0.kind == "report_triage" }
            #expect(Set(triage.map(\.user)) == [people["wittenCM"].id, people["wittenLead"].id])
            #expect(triage.allSatisfy { $0.link == "/meldungen" && !$0.title.contains("Petrova") })
            let reminders = sent.filter { $0.kind == "action_item" }
            #expect(reminders.map(\.user) == [people["wittenCM"].id])
            #expect(reminders.first?.link == "/konferenzen/\(conferenceID.lowercased())")
            #expect(reminders.first?.title.contains("AWO EN") == true)
        }
    }

    @Test func aConsentCanBeGivenForALimitedTime() async throws {
        try await TestApp.with { _, people, client in
            let cm = people["wittenCM"].token
            let clientID = try await CaseWorkflowTests.register(client, cm)
            let backwards = try await client.api(
                .post,
                "/api/v1/clients/\(clientID)/consents",
                token: cm,
                json: #"{"scope":"handover","recipient":"Jobcenter","given_on":"2026-03-01","expires_on":"2026-02-01"}"#
            )
            #expect(backwards.status == .unprocessableContent)
            #expect((backwards.object["errors"] as? [String: String])?["expires_on"]?.contains("vor ihrem Beginn") == true)
            let limited = try await client.api(
                .post,
                "/api/v1/clients/\(clientID)/consents",
                token: cm,
                json: #"{"scope":"handover","recipient":"Jobcenter","given_on":"2026-03-01","expires_on":"2026-09-30"}"#
            )
            #expect(limited.status == .created, "\(limited.text)")
            #expect(limited.object["expires_on"] as? String == "2026-09-30")
        }
    }

    @Test func aRenewedConsentToCaseManagementKeepsTheHandOversAlive() async throws {
        try await TestApp.with { db, people, client in
            let (clientID, _, referralID) = try await ReferralGrantTests.refer(client, people)
            let client = UUID(uuidString: clientID)!
            let referral = UUID(uuidString: referralID)!
            func sql(_ query: PostgresQuery) async throws { try await db.owner.withTransaction { try await $0.query(query, logger: Self.logger) } }
            func live() async throws -> Int {
                try await db.owner.withTransaction {
                    try await $0.query(
                        "SELECT count(*)::integer FROM access_grants WHERE object_id = \(referral) AND revoked_at IS NULL",
                        logger: Self.logger
                    )
                    .collect().first!.decode(Int.self)
                }
            }
            // The first consent to case management ran out ten days ago; a new one was given before that.
            try await sql(
                "UPDATE consents SET given_on = current_date - 60, expires_on = current_date - 10 WHERE client_id = \(client) AND scope = 'case_management'"
            )
            try await sql(
                """
                INSERT INTO consents (tenant_id, id, client_id, scope, given_on)
                SELECT tenant_id, gen_random_uuid(), client_id, 'case_management', current_date - 12 FROM consents WHERE client_id = \(client) AND scope = 'case_management'
                """
            )
            try await sql("UPDATE access_grants SET granted_at = now() - interval '20 days' WHERE object_id = \(referral)")
            try await Self.sweep(db, asOf: Date())
            #expect(try await live() == 1, "the renewed consent holds: the hand-over stays")
            // Now the renewed one ends too: the hand-over given before goes with it.
            try await sql(
                "UPDATE consents SET expires_on = current_date - 1 WHERE client_id = \(client) AND scope = 'case_management' AND expires_on IS NULL"
            )
            try await Self.sweep(db, asOf: Date())
            #expect(try await live() == 0)
        }
    }

    @Test func expiredConsentRevokesTheHandOverAndRetentionAnonymisesClosedCases() async throws {
        try await TestApp.with { db, people, client in
            let (clientID, caseID, referralID) = try await ReferralGrantTests.refer(client, people)
            let owner = db.owner
            try await owner.withTransaction {
                try await $0.query(
                    "UPDATE consents SET given_on = current_date - 30, expires_on = current_date + 2 WHERE client_id = \(UUID(uuidString: clientID)!) AND scope = 'handover'",
                    logger: Self.logger
                )
            }
            func liveGrants() async throws -> Int {
                try await owner.withTransaction {
                    try await $0.query(
                        "SELECT count(*)::integer FROM access_grants WHERE object_id = \(UUID(uuidString: referralID)!) AND revoked_at IS NULL",
                        logger: Self.logger
                    ).collect().first!.decode(Int.self)
                }
            }
            try await Self.sweep(db, asOf: Self.days(1))
            #expect(try await liveGrants() == 1)
            try await Self.sweep(db, asOf: Self.days(3))
            #expect(try await liveGrants() == 1, "a sweep as of a future day never revokes ahead of the real date")
            try await owner.withTransaction {
                try await $0.query(
                    "UPDATE consents SET expires_on = current_date - 1 WHERE client_id = \(UUID(uuidString: clientID)!) AND scope = 'handover'",
                    logger: Self.logger
                )
            }
            try await Self.sweep(db, asOf: Date())
            #expect(try await liveGrants() == 0, "the consent ran out yesterday")

            // The case closed four years ago: past the district's 36 months.
            try await owner.withTransaction {
                try await $0.query(
                    "UPDATE cases SET phase = 'closure', closed_on = current_date - 1461, closure_reason = 'Ziele erreicht' WHERE id = \(UUID(uuidString: caseID)!)",
                    logger: Self.logger
                )
            }
            try await Self.sweep(db, asOf: Date())
            let (first, last, birth, anonymised) = try await owner.withTransaction {
                try await $0.query(
                    "SELECT first_name, last_name, date_of_birth::text, anonymised_at IS NOT NULL FROM clients WHERE id = \(UUID(uuidString: clientID)!)",
                    logger: Self.logger
                ).collect().first!.decode((String, String, String, Bool).self)
            }
            #expect(first == "anonymisiert" && last == "anonymisiert" && anonymised)
            #expect(birth == "1994-01-01", "the year of birth stays for the figures")
            let referralName = try await owner.withTransaction {
                try await $0.query("SELECT first_name FROM referrals WHERE id = \(UUID(uuidString: referralID)!)", logger: Self.logger).collect()
                    .first!.decode(String.self)
            }
            #expect(referralName == "anonymisiert")
            let audited = try await owner.withTransaction {
                try await $0.query(
                    "SELECT count(*)::integer FROM audit_log WHERE action = 'client.anonymised' AND purpose = 'retention' AND lower(object_id) = \(clientID.lowercased())",
                    logger: Self.logger
                ).collect().first!.decode(Int.self)
            }
            #expect(audited == 1)
            // Cases and their phases stay for the statistics.
            #expect(try await client.api(.get, "/api/v1/cases/\(caseID)", token: people["wittenCM"].token).status == .ok)
        }
    }

    @Test func anImmediateEMailCarriesOnlyALinkAndADigestCollectsTheRest() async throws {
        try await withTemporaryDirectory { folder in
            let script = folder.appendingPathComponent("sendmail")
            try "#!/bin/sh\ncat > \"\(folder.path)/mail-$$-$(date +%s%N).eml\"\n".write(to: script, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)
            @Sendable func mails() throws -> [String] {
                try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".eml") }.sorted()
                    .map { try String(contentsOf: folder.appendingPathComponent($0), encoding: .utf8) }
            }
            try await TestApp.with { db, people, client in
                let cm = people["wittenCM"]
                #expect(
                    try await client.api(.put, "/api/v1/me/notification-settings", token: cm.token, json: #"{"email":"sometimes"}"#).status
                        == .unprocessableContent
                )
                #expect(
                    try await client.api(.put, "/api/v1/me/notification-settings", token: cm.token, json: #"{"email":"immediate"}"#).status == .ok
                )
                let clientID = try await CaseWorkflowTests.register(client, cm.token)
                let (caseID, _) = try await CaseWorkflowTests.openCase(client, cm.token, clientID)
                _ = try await client.api(
                    .post,
                    "/api/v1/cases/\(caseID)/goals",
                    token: cm.token,
                    json: #"{"area":"work","text":"Praktikum finden","agreed_on":"\#(Day(Date()).iso)","review_on":"\#(Day(Self.days(5)).iso)"}"#
                )
                // The team lead wants a daily summary (the default): the report waits for the team.
                #expect(
                    try await client.api(.post, "/api/v1/reports", token: people["partner"].token, json: Level2ReportTests.report).status == .created
                )
                try await Self.sweep(db, asOf: Self.days(4), mail: [script.path])
                let sent = try mails()
                #expect(sent.count == 3, "goal and report at once to the CM, one digest to the team lead: \(sent.count)")
                let toCM = sent.filter { $0.contains("To: \(cm.email)") }
                #expect(toCM.count == 2)
                #expect(toCM.allSatisfy { $0.contains("http://kreiswerk.test/benachrichtigungen/") })
                let digest = try #require(sent.first { $0.contains("To: \(people["wittenLead"].email)") })
                #expect(digest.contains("1 × Eine Meldung (Ebene 2) wartet auf die Entscheidung Ihres Teams."))
                for mail in sent {
                    #expect(
                        !mail.contains("Amira") && !mail.contains("Haddad") && !mail.contains("Petrova") && !mail.contains("WIT-"),
                        "no client data by e-mail"
                    )
                }
                // Following the link marks it read and leads to the case.
                var browser = WebBrowser()
                _ = try await browser.signIn(cm.email, client)
                let inbox = try await client.api(.get, "/api/v1/notifications?unread=true", token: cm.token).array
                let goalNote = try #require(inbox.first { $0["kind"] as? String == "goal_review" })
                let opened = try await browser.get("/benachrichtigungen/\(goalNote["id"]!)", client)
                #expect(opened.headers[.location] == "/faelle/\(caseID.lowercased())")
                #expect(try await client.api(.get, "/api/v1/notifications?unread=true", token: cm.token).array.count == inbox.count - 1)
                // Nobody else can read or mark it.
                #expect(
                    try await client.api(.post, "/api/v1/notifications/\(goalNote["id"]!)/read", token: people["wittenLead"].token).status
                        == .notFound
                )
                // A second sweep of the same day sends nothing new.
                try await Self.sweep(db, asOf: Self.days(4), mail: [script.path])
                #expect(try mails().count == 3)
            }
        }
    }
}
