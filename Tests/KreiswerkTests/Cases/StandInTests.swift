import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import Testing

@testable import Kreiswerk

/// Stand-ins (Vertretung, issue 17): a colleague works an absent case manager's cases for a period without owning them;
/// what they do is recorded as done in stand-in, and it ends by itself.
@Suite struct StandInTests {
    let logger = TestDatabase.logger

    static func day(_ offset: Int) -> Day { Day(Date().addingTimeInterval(Double(offset) * 86_400)) }

    /// A second case manager of Witten, who stands in: her account and a browser signed in as her.
    static func colleague(
        _ db: TestDatabase,
        _ client: some TestClientProtocol,
        name: String = "Kollegin Witten"
    ) async throws -> (
        user: User, token: String, browser: WebBrowser
    ) {
        let email = "\(name.lowercased().replacingOccurrences(of: " ", with: "."))@witten.test"
        let user = try await OperatorAccounts(database: db.owner, passwords: Passwords(cost: 4)).create(
            tenant: "witten",
            email: email,
            displayName: name,
            roles: [.caseManager],
            password: TestApp.password
        )
        let token = try await OperatorAccounts(database: db.owner).createToken(email: email, name: "t", expiresInDays: 1).1.value
        var browser = WebBrowser()
        _ = try await browser.signIn(email, client)
        return (user, token, browser)
    }

    static func signedIn(_ email: String, _ client: some TestClientProtocol) async throws -> WebBrowser {
        var browser = WebBrowser()
        _ = try await browser.signIn(email, client)
        _ = try await browser.get("/vertretungen", client)
        return browser
    }

    /// Names a stand-in through the page; the response to the form.
    static func name(
        _ browser: inout WebBrowser,
        _ standIn: UUID,
        for absent: UUID? = nil,
        from: Day,
        to: Day,
        _ client: some TestClientProtocol
    ) async throws -> TestResponse {
        _ = try await browser.get("/vertretungen", client)
        var fields = [("stand_in_id", standIn.uuidString.lowercased()), ("starts_on", from.iso), ("ends_on", to.iso)]
        if let absent { fields.append(("absent_id", absent.uuidString.lowercased())) }
        return try await browser.post("/vertretungen", fields, client)
    }

    func ownerQuery(_ db: TestDatabase, _ sql: PostgresQuery) async throws -> [PostgresRow] {
        try await db.owner.withTransaction { try await $0.query(sql, logger: logger).collect() }
    }

    @Test func aStandInSeesTheAbsentColleaguesCasesDuringThePeriodAndNotAfter() async throws {
        try await TestApp.with { db, people, client in
            let (colleague, _, signedIn) = try await Self.colleague(db, client)
            var browser = signedIn
            let absent = people["wittenCM"]
            let clientID = try await CaseWorkflowTests.register(client, absent.token)
            let (caseID, _) = try await CaseWorkflowTests.openCase(client, absent.token, clientID)
            let tenant = try await ownerQuery(db, "SELECT id FROM tenants WHERE slug = 'witten'").first!.decode(UUID.self)

            // A period that ended yesterday: nothing of wittenCM's in the colleague's queue.
            _ = try await ownerQuery(
                db,
                """
                INSERT INTO stand_ins (tenant_id, id, absent_id, stand_in_id, starts_on, ends_on)
                VALUES (\(tenant), \(UUID()), \(absent.id), \(colleague.id), \(Self.day(-10).iso)::date, \(Self.day(-1).iso)::date)
                """
            )
            var queue = try await browser.get("/faelle", client).text
            #expect(!queue.contains("In Vertretung für") && !queue.contains(caseID.lowercased()), "a past stand-in lists nothing")

            // wittenCM names her from today to next week: a section of its own with wittenCM's case.
            var cm = try await Self.signedIn(absent.email, client)
            let named = try await Self.name(&cm, colleague.id, from: .today, to: Self.day(7), client)
            #expect(named.status == .seeOther, "\(named.text)")
            let confirmation = try await cm.get(named.headers[.location]!, client).text
            #expect(
                confirmation.contains("Vertretung eingetragen: Kollegin Witten vertritt wittenCM vom \(Day.today.german) bis \(Self.day(7).german).")
            )
            TruthfulPagesTests.expectTruthful(confirmation, "the stand-in page")
            queue = try await browser.get("/faelle", client).text
            TruthfulPagesTests.expectTruthful(queue, "my cases with a stand-in section")
            TruthfulPagesTests.expectTruthful(try await browser.get("/vertretungen", client).text, "the stand-in's page")
            #expect(queue.contains("In Vertretung für wittenCM bis \(Self.day(7).german)"))
            #expect(queue.contains("/faelle/\(caseID.lowercased())"), "the absent colleague's case is in the stand-in's queue")
            #expect(try await browser.get("/faelle/\(caseID.lowercased())", client).status == .ok)
            // The case stays wittenCM's.
            let file = try await client.api(.get, "/api/v1/cases", token: absent.token).array
            #expect(file.contains { ($0["id"] as? String)?.lowercased() == caseID.lowercased() }, "still in wittenCM's own cases")

            // Ended early by wittenCM (back sooner): gone from the colleague's queue at once, and the page says so.
            let id = try #require(named.headers[.location]?.split(separator: "=").last.map(String.init))
            _ = try await cm.get("/vertretungen", client)
            let ended = try await cm.post("/vertretungen/\(id)/beenden", [], client)
            #expect(ended.status == .seeOther, "\(ended.text)")
            #expect(
                try await cm.get(ended.headers[.location]!, client).text.contains(
                    "Vertretung beendet: Kollegin Witten vertritt wittenCM nicht mehr"
                )
            )
            queue = try await browser.get("/faelle", client).text
            #expect(!queue.contains("In Vertretung für") && !queue.contains(caseID.lowercased()))
            let again = try await cm.post("/vertretungen/\(id)/beenden", [], client)
            #expect(again.status == .unprocessableContent && again.text.contains("bereits beendet"))
        }
    }

    @Test func anActionInStandInIsRecordedAsSuchAndTheRemindersGoToTheStandIn() async throws {
        try await TestApp.with { db, people, client in
            let (colleague, colleagueToken, _) = try await Self.colleague(db, client)
            let absent = people["wittenCM"]
            let clientID = try await CaseWorkflowTests.register(client, absent.token)
            let (caseID, _) = try await CaseWorkflowTests.openCase(client, absent.token, clientID)
            let goal = try await client.api(
                .post,
                "/api/v1/cases/\(caseID)/goals",
                token: absent.token,
                json: #"{"area":"language","text":"B1-Kurs","agreed_on":"\#(Self.day(-30).iso)","review_on":"\#(Day.today.iso)"}"#
            )
            #expect(goal.status == .created, "\(goal.text)")
            var cm = try await Self.signedIn(absent.email, client)
            #expect(try await Self.name(&cm, colleague.id, from: Self.day(-2), to: Self.day(5), client).status == .seeOther)

            // The colleague writes a note: the timeline and the audit trail say it was in stand-in; wittenCM's own note is hers.
            let note = try await client.api(.post, "/api/v1/cases/\(caseID)/notes", token: colleagueToken, json: #"{"text":"Termin vereinbart."}"#)
            #expect(note.status.code < 300, "\(note.text)")
            #expect(try await client.api(.post, "/api/v1/cases/\(caseID)/notes", token: absent.token, json: #"{"text":"Selbst."}"#).status.code < 300)
            let timeline = try await client.api(.get, "/api/v1/cases/\(caseID)", token: absent.token).object["timeline"] as? [[String: Any]] ?? []
            let byStandIn = try #require(timeline.first { $0["text"] as? String == "Termin vereinbart." })
            #expect(byStandIn["actor_name"] as? String == "Kollegin Witten")
            #expect(byStandIn["stand_in_for"] as? String == "wittenCM")
            #expect(timeline.first { $0["text"] as? String == "Selbst." }?["stand_in_for"] == nil)
            var owner = try await Self.signedIn(absent.email, client)
            #expect(try await owner.get("/faelle/\(caseID.lowercased())", client).text.contains("Kollegin Witten in Vertretung für wittenCM:"))

            let entries = try await ownerQuery(
                db,
                "SELECT actor_id, detail ->> 'stand_in_for' FROM audit_log WHERE action = 'case.note_added' AND lower(object_id) = \(caseID.lowercased()) ORDER BY id"
            ).map { try $0.decode((UUID, String?).self) }
            #expect(entries.count == 2)
            #expect(
                entries.first { $0.0 == colleague.id }?.1 == absent.id.uuidString.lowercased(),
                "the stand-in's entry names whom she stood in for"
            )
            #expect(entries.first { $0.0 == absent.id }?.1 == nil)
            let sealed = try await ownerQuery(db, "SELECT count(*)::integer FROM audit_log WHERE entry_hash <> audit_entry_digest(audit_log)")
            #expect(try sealed.first!.decode(Int.self) == 0, "the digest covers the mark")

            // The goal due today: the reminder goes to the stand-in, saying for whom, not to the absent owner.
            let tenant = try await ownerQuery(db, "SELECT id FROM tenants WHERE slug = 'witten'").first!.decode(UUID.self)
            let report = try await db.worker.withTenant(tenant) { connection in
                try await ReminderSweep.run(tenant: tenant, asOf: Date(), on: connection, logger: logger)
            }
            #expect(report.notified["goal_review"] == 1, "\(report)")
            let inbox = try await client.api(.get, "/api/v1/notifications", token: colleagueToken).array
            #expect(inbox.contains { ($0["title"] as? String ?? "").hasSuffix("(in Vertretung für wittenCM)") }, "\(inbox)")
            #expect(
                try await client.api(.get, "/api/v1/notifications", token: absent.token).array.filter { $0["kind"] as? String == "goal_review" }
                    .isEmpty
            )
        }
    }

    @Test func anotherTenantsUserOrOneselfOrSomeoneWithoutCasesCannotBeNamed() async throws {
        try await TestApp.with { db, people, client in
            var cm = try await Self.signedIn(people["wittenCM"].email, client)
            for (standIn, why, message) in [
                (people["hattingenCM"].id, "another tenant's case manager", "Kollegin oder einen Kollegen dieses Mandanten"),
                (people["wittenAdmin"].id, "an administrator without cases", "Kollegin oder einen Kollegen dieses Mandanten"),
                (people["wittenCM"].id, "oneself", "Sie können sich nicht selbst vertreten"),
                (UUID(), "nobody", "Kollegin oder einen Kollegen dieses Mandanten"),
            ] {
                let refused = try await Self.name(&cm, standIn, from: .today, to: Self.day(3), client)
                #expect(refused.status == .unprocessableContent, "\(why)")
                #expect(refused.text.contains(message), "\(why): \(refused.text)")
                #expect(refused.text.contains(#"id="stand_in_id-error""#), "\(why): the message sits next to the field")
            }
            let past = try await Self.name(&cm, people["wittenLead"].id, from: Self.day(-5), to: Self.day(-1), client)
            #expect(past.status == .unprocessableContent && past.text.contains("in der Vergangenheit"))
            let reversed = try await Self.name(&cm, people["wittenLead"].id, from: Self.day(3), to: Self.day(1), client)
            #expect(reversed.status == .unprocessableContent && reversed.text.contains("vor ihrem Beginn"))
            let count = try await db.owner.withTransaction { try await $0.query("SELECT count(*)::integer FROM stand_ins", logger: logger).collect() }
            #expect(try count.first!.decode(Int.self) == 0)
        }
    }

    @Test func aCaseManagerCannotSetAStandInForSomeoneElseUnlessTheyLeadTheTeam() async throws {
        try await TestApp.with { db, people, client in
            let (colleague, _, signedIn) = try await Self.colleague(db, client)
            var browser = signedIn
            let absent = people["wittenCM"]
            let forbidden = try await Self.name(&browser, colleague.id, for: absent.id, from: .today, to: Self.day(3), client)
            #expect(forbidden.status == .forbidden, "\(forbidden.text)")
            #expect(forbidden.text.contains("Amts- oder Teamleitung"))

            var lead = try await Self.signedIn(people["wittenLead"].email, client)
            let named = try await Self.name(&lead, colleague.id, for: absent.id, from: .today, to: Self.day(3), client)
            #expect(named.status == .seeOther, "\(named.text)")
            let id = try #require(named.headers[.location]?.split(separator: "=").last.map(String.init))
            // The stand-in herself does not end it (the absent person or the team lead does); another town's account does not find it.
            _ = try await browser.get("/vertretungen", client)
            #expect(try await browser.post("/vertretungen/\(id)/beenden", [], client).status == .forbidden)
            var hattingen = try await Self.signedIn(people["hattingenCM"].email, client)
            #expect(try await hattingen.post("/vertretungen/\(id)/beenden", [], client).status == .notFound)
            let overview = try await lead.get("/vertretungen", client).text
            #expect(overview.contains("id=\"tenant-stand-ins\"") && overview.contains("Kollegin Witten"))
            _ = try await lead.get("/vertretungen", client)
            #expect(try await lead.post("/vertretungen/\(id)/beenden", [], client).status == .seeOther)
        }
    }

    @Test func overlappingPeriodsAndAStandInWhoIsAbsentThemselvesAreRefused() async throws {
        try await TestApp.with { db, people, client in
            let (anna, _, _) = try await Self.colleague(db, client, name: "Anna Witten")
            let (bert, _, _) = try await Self.colleague(db, client, name: "Bert Witten")
            let cm = people["wittenCM"]
            var lead = try await Self.signedIn(people["wittenLead"].email, client)
            // Anna stands in for wittenCM in days 0…5.
            #expect(try await Self.name(&lead, anna.id, for: cm.id, from: .today, to: Self.day(5), client).status == .seeOther)

            // A second stand-in for wittenCM overlapping it.
            let overlap = try await Self.name(&lead, bert.id, for: cm.id, from: Self.day(4), to: Self.day(8), client)
            #expect(overlap.status == .unprocessableContent)
            #expect(
                overlap.text.contains(
                    "Für wittenCM ist vom \(Day.today.german) bis \(Self.day(5).german) bereits Anna Witten als Vertretung eingetragen"
                )
            )
            // Anna absent herself while she stands in.
            let covering = try await Self.name(&lead, bert.id, for: anna.id, from: Self.day(2), to: Self.day(3), client)
            #expect(covering.status == .unprocessableContent)
            #expect(covering.text.contains("Anna Witten vertritt vom \(Day.today.german) bis \(Self.day(5).german) wittenCM"))
            // Bert is away days 6…9: he cannot stand in for the lead then.
            #expect(try await Self.name(&lead, anna.id, for: bert.id, from: Self.day(6), to: Self.day(9), client).status == .seeOther)
            let away = try await Self.name(&lead, bert.id, for: people["wittenLead"].id, from: Self.day(8), to: Self.day(12), client)
            #expect(away.status == .unprocessableContent)
            #expect(
                away.text.contains(
                    "Bert Witten ist vom \(Self.day(6).german) bis \(Self.day(9).german) selbst abwesend (vertreten durch Anna Witten)"
                )
            )
            // After wittenCM's period, Bert may stand in for wittenCM.
            #expect(try await Self.name(&lead, people["wittenLead"].id, for: cm.id, from: Self.day(6), to: Self.day(7), client).status == .seeOther)
        }
    }
}
