import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Kreiswerk

/// The start page as a work queue (issue 19): exactly what is due for the person, each item linking to where it is done,
/// nothing of another district, in one transaction of a fixed, small number of statements.
@Suite struct WorkQueueTests {
    static func identity(_ db: TestDatabase, _ token: String) async throws -> Identity {
        try #require(try await Credentials(logger: TestDatabase.logger).identity(bearer: token, on: db.app.client))
    }

    static func conference(_ client: some TestClientProtocol, _ people: TestApp.People, _ body: String) async throws -> String {
        try await LedConferenceTests.conference(client, people, body).0
    }

    @Test func theCoordinatorsQueueHoldsExactlyWhatIsDue() async throws {
        try await TestApp.with { db, people, client in
            do { try await coordinatorsQueue(db, people, client) } catch { Issue.record("\(String(reflecting: error))") }
        }
    }

    func coordinatorsQueue(_ db: TestDatabase, _ people: TestApp.People, _ client: some TestClientProtocol) async throws {
        do {
            let coordinator = people["coordinator"].token
            // Nothing yet: the queue is empty, and says so.
            let empty = try await WorkQueue(database: db.app, policy: Policy()).start(for: try await Self.identity(db, coordinator))
            #expect(empty.items.isEmpty, "\(empty.items)")

            // A referral waiting 30 days, one waiting 10 (not yet the coordinators' concern).
            let (_, _, waiting) = try await ReferralGrantTests.refer(client, people)
            // Two problems: one past its deadline, one with its deadline ahead.
            let overdue = try await LadderTests.raise(client, people, title: "Kein Schulplatz")
            let ahead = try await LadderTests.raise(client, people, title: "Keine Kita-Plätze")
            // A poll asked 15 days ago on an open problem, and a fresh one.
            #expect(
                try await client.api(.post, "/api/v1/problems/\(ahead)/polls", token: coordinator, json: #"{"question":"Bekannt?"}"#).status
                    == .created
            )
            // A district conference to plan, a moderation to take on, and a municipal conference without the district.
            let asked = try await Self.conference(
                client,
                people,
                #"{"kind":"district","title":"Schule","scheduled_at":"2027-01-10T09:00:00Z","summary":"Kinder ohne Schulplatz.","participants":[],"consent_given_on":"2026-03-01"}"#
            )
            let moderated = try await Self.conference(
                client,
                people,
                #"{"kind":"municipal","title":"Wohnung","scheduled_at":"2027-01-12T09:00:00Z","summary":"Wohnung zu klein.","participants":["awo-en"],"consent_given_on":"2026-03-01","request_moderator":true}"#
            )
            let own = try await Self.conference(
                client,
                people,
                #"{"kind":"municipal","title":"Nur Witten","scheduled_at":"2027-01-12T09:00:00Z","summary":"Intern.","participants":["awo-en"],"consent_given_on":"2026-03-01"}"#
            )
            let meeting = UUID()
            try await db.owner.withTransaction { connection in
                try await connection.query(
                    "UPDATE referrals SET sent_at = now() - interval '30 days' WHERE id = \(UUID(uuidString: waiting)!)",
                    logger: TestDatabase.logger
                )
                try await connection.query(
                    "UPDATE structural_problems SET level_deadline = now() - interval '2 days', overdue_since = now() - interval '1 day' WHERE id = \(UUID(uuidString: overdue)!)",
                    logger: TestDatabase.logger
                )
                try await connection.query(
                    "UPDATE structural_problems SET level_since = now() - interval '20 days', level_deadline = now() + interval '30 days' WHERE id = \(UUID(uuidString: ahead)!)",
                    logger: TestDatabase.logger
                )
                try await connection.query(
                    "UPDATE problem_polls SET asked_at = now() - interval '15 days' WHERE problem_id = \(UUID(uuidString: ahead)!)",
                    logger: TestDatabase.logger
                )
                try await connection.query(
                    """
                    INSERT INTO committee_meetings (tenant_id, id, scheduled_at, agenda_deadline)
                    SELECT id, \(meeting), now() + interval '10 days', current_date + 3 FROM tenants WHERE slug = 'en-kreis'
                    """,
                    logger: TestDatabase.logger
                )
            }

            let start = try await WorkQueue(database: db.app, policy: Policy()).start(for: try await Self.identity(db, coordinator))
            let links = start.items.map(\.link)
            #expect(start.items.map(\.kind) == ["problem", "poll", "conference", "conference", "steering", "referrals"], "\(start.items)")
            #expect(links.contains("/probleme/\(overdue.lowercased())"))
            #expect(
                !links.contains("/probleme/\(ahead.lowercased())")
                    || start.items.first { $0.link == "/probleme/\(ahead.lowercased())" }?.kind == "poll"
            )
            #expect(links.contains("/konferenzen/\(asked.lowercased())") && links.contains("/konferenzen/\(moderated.lowercased())"))
            #expect(!links.contains("/konferenzen/\(own.lowercased())"))
            #expect(start.items.first { $0.link == "/konferenzen/\(asked.lowercased())" }?.title == "Fallkonferenz planen: Schule")
            #expect(start.items.first { $0.link == "/konferenzen/\(moderated.lowercased())" }?.title == "Moderation übernehmen? Wohnung")
            let referrals = try #require(start.items.first { $0.kind == "referrals" })
            #expect(referrals.title == "Stadt Witten" && referrals.count == 1 && referrals.link == "/mandanten/witten", "\(referrals)")
            #expect(start.items.first { $0.kind == "steering" }?.detail?.contains("0 Vorlage(n) auf der Tagesordnung") == true)
            // Few statements, whatever the queue holds: acting, the tenants, the queue.
            #expect(start.statements == 3)

            // The page shows it, each item a link to where it is done.
            var browser = WebBrowser()
            _ = try await browser.signIn(people["coordinator"].email, client)
            let page = try await browser.get("/", client)
            #expect(page.status == .ok)
            #expect(page.text.contains("Was ansteht"))
            #expect(page.text.contains("href=\"/konferenzen/\(asked.lowercased())\""))
            #expect(page.text.contains("Verweisungen ohne Rückmeldung seit über 28 Tagen"))

            // A coordinator of another district sees none of it.
            let other = try await LadderTests.otherDistrictsCoordinator(db)
            let elsewhere = try await WorkQueue(database: db.app, policy: Policy()).start(for: try await Self.identity(db, other))
            #expect(elsewhere.items.isEmpty, "\(elsewhere.items)")
            // The district's assistant has no coordinator's queue.
            let assistant = try await WorkQueue(database: db.app, policy: Policy()).start(for: try await Self.identity(db, people["assistant"].token))
            #expect(assistant.items.isEmpty)
        }
    }

    @Test func caseWorkersSeeWhatIsDueTodayNewReferralsAndPolls() async throws {
        try await TestApp.with { db, people, client in
            let cm = people["wittenCM"].token
            // A referral to AWO's service is new for AWO's staff.
            let (_, caseID, _) = try await ReferralGrantTests.refer(client, people)
            let id = UUID(uuidString: caseID)!
            try await db.owner.withTransaction { connection in
                try await connection.query("UPDATE cases SET next_review_on = current_date WHERE id = \(id)", logger: TestDatabase.logger)
            }
            // Hattingen is polled about Witten's problem.
            let problem = try await LadderTests.raise(client, people)
            #expect(
                try await client.api(.post, "/api/v1/problems/\(problem)/polls", token: people["coordinator"].token, json: #"{"question":"?"}"#)
                    .status
                    == .created
            )
            let witten = try await WorkQueue(database: db.app, policy: Policy()).start(for: try await Self.identity(db, cm))
            #expect(witten.items.map(\.kind) == ["review"], "\(witten.items)")
            #expect(witten.items.first?.link == "/faelle/\(caseID.lowercased())")
            #expect(witten.statements == 3)
            let hattingen = try await WorkQueue(database: db.app, policy: Policy()).start(
                for: try await Self.identity(db, people["hattingenCM"].token)
            )
            #expect(hattingen.items.map(\.kind) == ["poll"], "\(hattingen.items)")
            #expect(hattingen.items.first?.title == "Umfrage beantworten: Keine Sprachkurse mit Kinderbetreuung")

            let awo = try await ReferralGrantTests.carrierStaff(db)
            let token = try await OperatorAccounts(database: db.owner).createToken(email: awo.email, name: "t", expiresInDays: 1).1.value
            let carrier = try await WorkQueue(database: db.app, policy: Policy()).start(for: try await Self.identity(db, token))
            #expect(carrier.items.map(\.kind) == ["referral"], "\(carrier.items)")
            #expect(carrier.items.first?.link == "/verweisungen")
            // The platform administration has no queue: one statement fewer.
            let platform = try await WorkQueue(database: db.app, policy: Policy()).start(for: try await Self.identity(db, people["platform"].token))
            #expect(platform.items.isEmpty && platform.statements == 2)
        }
    }
}
