import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import Testing

@testable import Kreiswerk

/// Issue 19: polls that can be answered (they show the problem, towns by default, who has not answered), escalation as
/// the coordinators' decision (the scheduler reminds and marks overdue; automatic escalation is a district setting and never
/// reaches the steering group), and problems brought from outside the case work.
@Suite struct CoordinatorDecisionTests {
    static let logger = TestDatabase.logger

    /// A case manager account in `tenant` (with a token).
    static func caseManager(_ db: TestDatabase, _ tenant: String, _ name: String) async throws -> (id: UUID, email: String, token: String) {
        let operators = OperatorAccounts(database: db.owner, passwords: Passwords(cost: 4))
        let email = "\(name.lowercased())@\(tenant).test"
        let user = try await operators.create(tenant: tenant, email: email, displayName: name, roles: [.caseManager], password: TestApp.password)
        let token = try await operators.createToken(email: email, name: "tests", expiresInDays: nil).1.value
        return (user.id, email, token)
    }

    static func overdueSince(_ client: some TestClientProtocol, _ token: String, _ id: String) async throws -> Any? {
        try await LadderTests.get(client, token, id).object["overdue_since"]
    }

    // MARK: - Polls

    @Test func aPollShowsTheProblemWithoutClientDataAsksTownsAndSaysWhoHasNotAnswered() async throws {
        try await TestApp.with { db, people, client in
            _ = try await Self.caseManager(db, "gevelsberg", "GevelsbergCM")
            let awo = try await Self.caseManager(db, "awo-en", "AwoCM")
            let id = try await LadderTests.raise(client, people)
            let caseNumber = try #require(
                (try await LadderTests.get(client, people["wittenCM"].token, id).object["cases"] as? [[String: Any]])?.first?["case_number"]
                    as? String
            )

            var coordinator = WebBrowser()
            _ = try await coordinator.signIn(people["coordinator"].email, client)
            _ = try await coordinator.get("/probleme/\(id)", client)
            #expect(coordinator.lastPage.contains("id=\"include_carriers\""))
            #expect(!coordinator.lastPage.contains("id=\"include_carriers\" name=\"include_carriers\" value=\"1\" checked"), "carriers are a choice")
            let polled = try await coordinator.post("/probleme/\(id)/umfrage", [("question", "Kennen Sie das, und was hat geholfen?")], client)
            #expect(polled.status == .seeOther)
            let notice = try await coordinator.get(try #require(polled.headers[.location]), client).text
            #expect(notice.contains("Umfrage an 2 Städte gesendet"), "towns, counted in German: \(notice.contains("Umfrage an"))")

            // The carrier was not asked; the towns were.
            #expect(try await client.api(.get, "/api/v1/polls", token: awo.token).array.isEmpty, "carriers only when chosen")
            let asked = try #require(try await client.api(.get, "/api/v1/polls", token: people["hattingenCM"].token).array.first)
            #expect(asked["title"] as? String == "Keine Sprachkurse mit Kinderbetreuung")
            #expect(asked["category"] as? String == "structural_gap")

            // Hattingen's page: title, category, description and question; nothing about the client or the case.
            var hattingen = WebBrowser()
            _ = try await hattingen.signIn(people["hattingenCM"].email, client)
            let page = try await hattingen.get("/umfragen", client).text
            #expect(page.contains("Keine Sprachkurse mit Kinderbetreuung"))
            #expect(page.contains("Alleinerziehende können Integrationskurse nicht besuchen"))
            #expect(page.contains(ProblemCategory.structuralGap.label))
            #expect(page.contains("Kennen Sie das, und was hat geholfen?"))
            for secret in ["Amira", "Haddad", caseNumber, "/faelle/"] { #expect(!page.contains(secret), "the poll page shows \(secret)") }
            #expect(page.contains("Umfragen (1 offen)"), "the navigation counts the open poll")
            #expect(!page.contains("value=\"0\" checked"), "no answer is preselected")

            // An answer must say whether the problem is known.
            let pollID = try #require(page.firstMatch(of: /\/umfragen\/([0-9a-f-]{36})\/antwort/)?.1)
            let unsure = try await hattingen.post("/umfragen/\(pollID)/antwort", [("answer", "")], client)
            #expect(unsure.status == .unprocessableContent)
            #expect(unsure.text.contains("Bitte angeben, ob Ihre Stelle das Problem kennt"))
            let answered = try await hattingen.post("/umfragen/\(pollID)/antwort", [("known", "1"), ("answer", "Kurs mit Kita der VHS")], client)
            #expect(answered.status == .seeOther)
            let after = try await hattingen.get("/umfragen", client).text
            #expect(!after.contains("Umfragen (1 offen)") && after.contains(">Umfragen<"), "answered: no count")

            // The coordinator sees the answer per town and who has not answered.
            let problem = try await LadderTests.get(client, people["coordinator"].token, id).object
            let poll = try #require((problem["polls"] as? [[String: Any]])?.first)
            #expect(poll["waiting_for"] as? [String] == ["Stadt Gevelsberg"])
            #expect((poll["answers"] as? [[String: Any]])?.map { $0["tenant"] as? String } == ["Stadt Hattingen"])
            let coordinatorPage = try await coordinator.get("/probleme/\(id)", client).text
            #expect(coordinatorPage.contains("noch ohne Antwort: <span class=\"waiting\">Stadt Gevelsberg</span>"))
            #expect(coordinatorPage.contains("Kurs mit Kita der VHS"))

            // With the carriers chosen, AWO is asked too, and the history says whom.
            let withCarriers = try await client.api(
                .post,
                "/api/v1/problems/\(id)/polls",
                token: people["coordinator"].token,
                json: #"{"question":"Und bei den Trägern?","include_carriers":true}"#
            )
            #expect(withCarriers.status == .created, "\(withCarriers.text)")
            #expect(try await client.api(.get, "/api/v1/polls", token: awo.token).array.count == 1)
            let history = (withCarriers.object["events"] as? [[String: Any]])?.compactMap { $0["text"] as? String } ?? []
            #expect(history.contains { $0.hasPrefix("Umfrage an 2 Städte und 1 Träger") }, "\(history)")
        }
    }

    // MARK: - Deadlines

    @Test func pastTheDeadlineTheSchedulerRemindsAndMarksOverdueButDoesNotEscalate() async throws {
        try await TestApp.with { db, people, client in
            let coordinator = people["coordinator"].token
            let id = try await LadderTests.raise(client, people)
            try await ReminderRuleTests.sweep(db, asOf: ReminderRuleTests.days(50))
            #expect(try await Self.overdueSince(client, coordinator, id) == nil, "before the 8 weeks")

            try await ReminderRuleTests.sweep(db, asOf: ReminderRuleTests.days(57))
            let problem = try await LadderTests.get(client, coordinator, id).object
            #expect(problem["level"] as? String == "municipal", "the scheduler does not decide")
            #expect(problem["overdue_since"] as? String != nil)
            let last = (problem["events"] as? [[String: Any]])?.last
            #expect(last?["kind"] as? String == "overdue")
            #expect(last?["by_scheduler"] as? Bool == true)
            let sent = try await ReminderRuleTests.notifications(db)
            #expect(sent.filter { $0.kind == "problem_escalated" }.isEmpty)
            let reminded = sent.filter { $0.kind == "problem_overdue" }
            #expect(reminded.map(\.user) == [people["coordinator"].id])
            #expect(reminded.first?.title.contains("Frist der Ebene „Kommunale Projektgruppe“ überschritten seit") == true)

            // Reminded once; the page and the list say since when.
            try await ReminderRuleTests.sweep(db, asOf: ReminderRuleTests.days(60))
            #expect(try await ReminderRuleTests.notifications(db).filter { $0.kind == "problem_overdue" }.count == 1)
            var browser = WebBrowser()
            _ = try await browser.signIn(people["coordinator"].email, client)
            #expect(try await browser.get("/probleme/\(id)", client).text.contains("Frist überschritten seit"))
            #expect(try await browser.get("/probleme", client).text.contains("Frist überschritten seit"))

            // The coordinators' decision: a new deadline (clears the mark), or escalation by hand.
            let version = try #require(problem["version"] as? Int)
            let past = try await LadderTests.step(
                client,
                coordinator,
                id,
                "deadline",
                #"{"deadline":"2020-01-01","reason":"x"}"#,
                version: version
            )
            #expect(past.status == .unprocessableContent)
            let newDeadline = Day(ReminderRuleTests.days(30)).iso
            let kept = try await LadderTests.step(
                client,
                coordinator,
                id,
                "deadline",
                #"{"deadline":"\#(newDeadline)","reason":"Die Projektgruppe tagt im Januar."}"#,
                version: version
            )
            #expect(kept.status == .ok, "\(kept.text)")
            #expect(kept.object["overdue_since"] == nil)
            #expect((kept.object["level_deadline"] as? String)?.hasPrefix(newDeadline) == true, "\(kept.object["level_deadline"] ?? "")")
            #expect((kept.object["events"] as? [[String: Any]])?.last?["kind"] as? String == "deadline_set")
        }
    }

    @Test func automaticEscalationIsADistrictSettingThatNeverReachesTheSteeringGroup() async throws {
        try await TestApp.with { db, people, client in
            let coordinator = people["coordinator"].token
            #expect(try await Self.rules(db).automaticEscalation == false, "off by default (en-kreis.yaml)")
            try await db.owner.withTransaction {
                try await $0.query(
                    """
                    UPDATE tenants SET reminder_rules = coalesce(reminder_rules, '{}'::jsonb) || '{"automatic_escalation": true}'::jsonb
                    WHERE slug = 'en-kreis'
                    """,
                    logger: Self.logger
                )
            }
            #expect(try await Self.rules(db).automaticEscalation == true)
            let id = try await LadderTests.raise(client, people)
            try await ReminderRuleTests.sweep(db, asOf: ReminderRuleTests.days(57))
            let moved = try await LadderTests.get(client, coordinator, id).object
            #expect(moved["level"] as? String == "district")
            #expect(moved["overdue_since"] == nil)
            let last = (moved["events"] as? [[String: Any]])?.last
            #expect(last?["kind"] as? String == "escalated")
            #expect(last?["by_scheduler"] as? Bool == true)

            // Past the district deadline it stays: the steering group receives written proposals only.
            try await ReminderRuleTests.sweep(db, asOf: ReminderRuleTests.days(57 + 85))
            try await ReminderRuleTests.sweep(db, asOf: ReminderRuleTests.days(400))
            let stays = try await LadderTests.get(client, coordinator, id).object
            #expect(stays["level"] as? String == "district")
            #expect(stays["overdue_since"] as? String != nil)
            #expect((stays["events"] as? [[String: Any]])?.last?["kind"] as? String == "overdue")

            // The problem page points the coordinators to a written proposal.
            var browser = WebBrowser()
            _ = try await browser.signIn(people["coordinator"].email, client)
            let page = try await browser.get("/probleme/\(id)", client).text
            #expect(page.contains("id=\"steering-proposal\""))
            #expect(page.contains("/gremien/lenkungsgruppe?problem=\(id.lowercased())"))
        }
    }

    @Test func theDistrictsFileSaysWhetherProblemsGoUpByThemselves() async throws {
        let shipped = try TenantFiles.load(from: TestDatabase.tenantsDirectory).first { $0.slug == "en-kreis" }
        #expect(shipped?.reminderRules?.automaticEscalation == false)
        // Stored before the setting existed: off, and the same as the shipped file (a plan shows no change).
        let stored = try #require(ReminderRules.decode(json: #"{"municipal_deadline_weeks": 8}"#))
        #expect(stored.automaticEscalation == false)
        #expect(stored.json == shipped?.reminderRules?.json)
        try await withTemporaryDirectory { folder in
            try copyContents(of: TestDatabase.tenantsDirectory, to: folder)
            let file = folder.appendingPathComponent("en-kreis").appendingPathComponent("en-kreis.yaml")
            let text = try String(contentsOf: file, encoding: .utf8)
            #expect(text.contains("automatic_escalation: false"))
            try text.replacingOccurrences(of: "automatic_escalation: false", with: "automatic_escalation: true")
                .write(to: file, atomically: true, encoding: .utf8)
            let on = try TenantFiles.load(from: folder).first { $0.slug == "en-kreis" }?.reminderRules
            #expect(on?.automaticEscalation == true)
            #expect(ReminderRules.decode(json: on?.json)?.automaticEscalation == true, "stored and read back")
            try text.replacingOccurrences(of: "automatic_escalation: false", with: "automatic_escalation: ja")
                .write(to: file, atomically: true, encoding: .utf8)
            let error = #expect(throws: TenantFilesInvalid.self) { try TenantFiles.load(from: folder) }
            #expect(error?.description.contains("reminders.automatic_escalation: must be true or false") == true, "\(error?.description ?? "")")
        }
    }

    static func rules(_ db: TestDatabase) async throws -> ReminderRules {
        try await db.owner.withTransaction { connection in
            let district = try #require(
                try await connection.query("SELECT id FROM tenants WHERE slug = 'en-kreis'", logger: logger).collect().first?.decode(UUID.self)
            )
            return try await ReminderSweep.rules(for: district, on: connection, logger: logger)
        }
    }

    // MARK: - Problems from outside the case work

    @Test func aCoordinatorRecordsAProblemFromTheIntegrationsrat() async throws {
        try await TestApp.with { db, people, client in
            var coordinator = WebBrowser()
            _ = try await coordinator.signIn(people["coordinator"].email, client)
            let list = try await coordinator.get("/probleme", client).text
            #expect(list.contains("id=\"record\""))
            #expect(!list.contains("value=\"integration_council\" checked"), "no source is preselected")

            let incomplete = try await coordinator.post("/probleme/erfassen", [("title", "Wohnsitzauflage")], client)
            #expect(incomplete.status == .unprocessableContent)
            #expect(incomplete.text.contains("Bitte wählen, welche Stadt das Problem betrifft"))
            _ = try await coordinator.get("/probleme", client)
            let missing = try await coordinator.post("/probleme/erfassen", [("title", "Wohnsitzauflage"), ("town", "witten")], client)
            #expect(missing.status == .unprocessableContent)
            #expect(missing.text.contains("Bitte angeben, wer das Problem einbringt"))
            #expect(missing.text.contains("Bitte den Namen der Stelle oder Person angeben"))

            _ = try await coordinator.get("/probleme", client)
            let recorded = try await coordinator.post(
                "/probleme/erfassen",
                [
                    ("source_kind", "integration_council"), ("source_name", "Integrationsrat der Stadt Witten"), ("town", "witten"),
                    ("title", "Beratung nur vormittags"), ("category", "structural_gap"),
                    ("description", "Berufstätige Zugewanderte erreichen die Beratungsstellen nicht."), ("legal_spheres", "SGB II"),
                ],
                client
            )
            #expect(recorded.status == .seeOther, "\(recorded.text.prefix(600))")
            let location = try #require(recorded.headers[.location])
            let page = try await coordinator.get(location, client).text
            #expect(page.contains("Problem erfasst: Es liegt auf der Ebene „Kommunale Projektgruppe“."))
            #expect(page.contains("Integrationsrat der Stadt Witten (Integrationsrat)"))
            #expect(page.contains("<dt>Betrifft</dt><dd>Stadt Witten</dd>"), "the town by name")
            #expect(!page.contains(">witten<") && !page.contains(" witten "), "never the slug")

            let id = String(try #require(location.firstMatch(of: /\/probleme\/([0-9a-f-]{36})/)?.1))
            let problem = try await LadderTests.get(client, people["coordinator"].token, id).object
            #expect(problem["source_kind"] as? String == "integration_council")
            #expect(problem["source_name"] as? String == "Integrationsrat der Stadt Witten")
            #expect(problem["case_count"] as? Int == 0)
            #expect(problem["level"] as? String == "municipal")
            #expect(problem["raised_by"] as? String == "Stadt Witten")
            // Witten's case workers read their town's problem; it climbs the same ladder.
            #expect(try await LadderTests.get(client, people["wittenCM"].token, id).status == .ok)
            let escalated = try await LadderTests.step(
                client,
                people["coordinator"].token,
                id,
                "escalate",
                #"{"reason":"Betrifft alle Städte."}"#,
                version: try #require(problem["version"] as? Int)
            )
            #expect(escalated.object["level"] as? String == "district")

            // Concerning the whole district, through the API: it starts at district level, and only the coordinators of the
            // district tenant read it (not its other accounts, not in the database either).
            let whole = try await client.api(
                .post,
                "/api/v1/problems/from-outside",
                token: people["coordinator"].token,
                json:
                    #"{"title":"Termine der ABH","category":"jurisdiction_interplay","description":"Monate Wartezeit.","source_kind":"migrant_organisation","source_name":"Verein Brücke e. V."}"#
            )
            #expect(whole.status == .created, "\(whole.text)")
            #expect(whole.object["level"] as? String == "district")
            #expect(whole.object["raised_by"] as? String == "Ennepe-Ruhr-Kreis")
            let wholeID = try #require(whole.object["id"] as? String)
            #expect(try await LadderTests.get(client, people["hattingenCM"].token, wholeID).status == .notFound)
            let staff = try await DistrictReadsTests.districtStaff(db)
            let district = try #require(
                try await db.owner.withTransaction {
                    try await $0.query("SELECT id FROM tenants WHERE slug = 'en-kreis'", logger: Self.logger).collect().first?.decode(UUID.self)
                }
            )
            for person in staff {
                let seen = try await db.app.withTenant(district, user: person.id) { connection in
                    try await connection.query("SELECT count(*)::integer FROM structural_problems", logger: Self.logger).collect().first!
                        .decode(Int.self)
                }
                #expect(seen == 0, "\(person.role) reads the district's own problem")
            }

            // A town cannot record one from outside, and a case manager cannot pass a source through the raising route.
            #expect(
                try await client.api(.post, "/api/v1/problems/from-outside", token: people["wittenCM"].token, json: "{}").status == .forbidden
            )
            let bad = try await client.api(
                .post,
                "/api/v1/problems/from-outside",
                token: people["coordinator"].token,
                json: #"{"title":"T","category":"structural_gap","description":"D","source_kind":"case_work","source_name":"x","town":"mx"}"#
            )
            #expect(bad.status == .unprocessableContent)
            #expect((bad.object["errors"] as? [String: String])?.keys.contains("source_kind") == true)
        }
    }

    // MARK: - Another district

    @Test func aCoordinatorOfAnotherDistrictGets404OnAllOfIt() async throws {
        try await TestApp.with { db, people, client in
            let id = try await LadderTests.raise(client, people)
            let coordinator = people["coordinator"].token
            #expect(
                try await client.api(.post, "/api/v1/problems/\(id)/polls", token: coordinator, json: #"{"question":"Bekannt?"}"#).status
                    == .created
            )
            let outside = try await client.api(
                .post,
                "/api/v1/problems/from-outside",
                token: coordinator,
                json:
                    #"{"title":"Beratung nur vormittags","category":"structural_gap","description":"D","source_kind":"integration_council","source_name":"Integrationsrat Witten","town":"witten"}"#
            )
            let outsideID = try #require(outside.object["id"] as? String)

            let other = try await LadderTests.otherDistrictsCoordinator(db)
            for problem in [id, outsideID] {
                #expect(try await LadderTests.get(client, other, problem).status == .notFound)
                #expect(
                    try await client.api(.post, "/api/v1/problems/\(problem)/polls", token: other, json: #"{"question":"?"}"#).status == .notFound
                )
                let deadline = #"{"deadline":"\#(Day(ReminderRuleTests.days(30)).iso)","reason":"x"}"#
                #expect(try await LadderTests.step(client, other, problem, "deadline", deadline, version: 1).status == .notFound)
                #expect(try await LadderTests.step(client, other, problem, "escalate", #"{"reason":"x"}"#, version: 1).status == .notFound)
            }
            #expect(try await client.api(.get, "/api/v1/problems", token: other).array.isEmpty)
            #expect(try await client.api(.get, "/api/v1/polls", token: other).status == .forbidden)
            // Naming a town of another district records nothing.
            let foreignTown = try await client.api(
                .post,
                "/api/v1/problems/from-outside",
                token: other,
                json: #"{"title":"T","category":"structural_gap","description":"D","source_kind":"carrier","source_name":"AWO","town":"witten"}"#
            )
            #expect(foreignTown.status == .unprocessableContent)
            #expect((foreignTown.object["errors"] as? [String: String])?.keys.contains("town") == true)
            // Through the pages too.
            var browser = WebBrowser()
            _ = try await browser.signIn("ks@mettmann.test", client)
            #expect(try await browser.get("/probleme/\(outsideID)", client).status == .notFound)
            _ = try await browser.get("/probleme", client)
            let step = try await browser.post(
                "/probleme/\(outsideID)/frist",
                [("version", "1"), ("deadline", Day(ReminderRuleTests.days(30)).iso), ("deadline_reason", "x")],
                client
            )
            #expect(step.status == .notFound)
            #expect(try await LadderTests.get(client, coordinator, outsideID).object["version"] as? Int == 1, "nothing changed")
        }
    }
}
