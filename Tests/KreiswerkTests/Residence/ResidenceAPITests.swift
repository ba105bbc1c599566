import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import Testing

@testable import Kreiswerk

/// Baustein III in the JSON API (issue 21): the ABH's register, the pre-checks and the naturalisation campaign — created,
/// listed and changed with If-Match (412 when stale, 428 without), 422 naming the field for bad input, and another
/// tenant's object a 404.
@Suite struct ResidenceAPITests {
    static func errors(_ response: TestResponse) -> [String: String] { response.object["errors"] as? [String: String] ?? [:] }

    /// An officer of Witten's own Ausländerbehörde (another tenant than the district's ABH): its API token.
    static func wittenOfficer(_ db: TestDatabase) async throws -> String {
        let operators = OperatorAccounts(database: db.owner, passwords: Passwords(cost: 4))
        let email = "officer@witten-abh.test"
        _ = try await operators.create(
            tenant: "witten-abh",
            email: email,
            displayName: "Witten ABH",
            roles: [.abhOfficer],
            password: TestApp.password
        )
        return try await operators.createToken(email: email, name: "tests", expiresInDays: nil).1.value
    }

    static func tenantID(_ db: TestDatabase, _ slug: String) async throws -> String {
        try await db.owner.withTransaction { connection in
            try await connection.query("SELECT id::text FROM tenants WHERE slug = \(slug)", logger: TestDatabase.logger).collect().first!.decode(
                String.self
            )
        }
    }

    @Test func theRegisterThroughTheAPI() async throws {
        try await TestApp.with { db, people, client in
            let officer = people["abh"].token
            let bad = try await client.api(
                .post,
                "/api/v1/abh/applications",
                token: officer,
                json: #"{"first_name":"Samir","last_name":"Haddad","date_of_birth":"1988-03-04","kind":"section_99","received_on":"gestern"}"#
            )
            #expect(bad.status == .unprocessableContent, "\(bad.text)")
            #expect(Self.errors(bad)["kind"]?.contains("section_25b") == true && Self.errors(bad)["received_on"] != nil, "\(bad.text)")
            let missing = try await client.api(.post, "/api/v1/abh/applications", token: officer, json: #"{"kind":"section_25b"}"#)
            #expect(missing.status == .unprocessableContent)
            #expect(Set(Self.errors(missing).keys) == ["first_name", "last_name", "date_of_birth", "received_on"], "\(missing.text)")

            let received = Day(Date().addingTimeInterval(-40 * 86_400)).iso
            let created = try await client.api(
                .post,
                "/api/v1/abh/applications",
                token: officer,
                json: #"{"first_name":"Samir","last_name":"Haddad","date_of_birth":"1988-03-04","kind":"section_25b","received_on":"\#(received)"}"#
            )
            #expect(created.status == .created, "\(created.text)")
            #expect(created.headers[.eTag] == "\"1\"")
            let id = try #require(created.object["id"] as? String)
            #expect(created.headers[.location] == "/api/v1/abh/applications/\(id.lowercased())")
            #expect(created.object["state"] as? String == "received" && created.object["applicant_name"] as? String == "Samir Haddad")

            let list = try await client.api(.get, "/api/v1/abh/applications?open=true&kind=section_25b", token: officer)
            #expect((list.object["items"] as? [[String: Any]])?.map { $0["id"] as? String } == [id])
            #expect(try await client.api(.get, "/api/v1/abh/applications?state=offen", token: officer).status == .unprocessableContent)
            let backlog = try await client.api(.get, "/api/v1/abh/backlog", token: officer)
            #expect(backlog.object["open"] as? Int == 1, "\(backlog.text)")
            #expect(
                (backlog.object["rows"] as? [[String: Any]])?.first { $0["kind"] as? String == "section_25b" }?["under_three_months"] as? Int == 1
            )
            let before = try await client.api(.get, "/api/v1/abh/backlog?as_of=\(Day(Date().addingTimeInterval(-41 * 86_400)).iso)", token: officer)
            #expect(before.object["open"] as? Int == 0)
            let badDay = try await client.api(.get, "/api/v1/abh/backlog?as_of=morgen", token: officer)
            #expect(badDay.status == .unprocessableContent && Self.errors(badDay)["as_of"] != nil)

            // Changes name their version: none is a 428, a stale one a 412, bad input a 422 naming the field.
            let change = #"{"state":"in_examination","changed_on":"\#(Day.today.iso)","note":"Unterlagen vollständig"}"#
            let path = "/api/v1/abh/applications/\(id)/state"
            #expect(try await client.api(.put, path, token: officer, json: change).status == .preconditionRequired)
            let badState = try await client.api(.put, path, token: officer, json: #"{"state":"erledigt"}"#, headers: [.ifMatch: "\"1\""])
            #expect(badState.status == .unprocessableContent && Self.errors(badState)["state"] != nil, "\(badState.text)")
            let changed = try await client.api(.put, path, token: officer, json: change, headers: [.ifMatch: "\"1\""])
            #expect(changed.status == .ok, "\(changed.text)")
            #expect(changed.headers[.eTag] == "\"2\"" && changed.object["state"] as? String == "in_examination")
            let stale = try await client.api(
                .put,
                path,
                token: officer,
                json: #"{"state":"granted","changed_on":"\#(Day.today.iso)"}"#,
                headers: [.ifMatch: "\"1\""]
            )
            #expect(stale.status == .preconditionFailed, "\(stale.text)")
            let read = try await client.api(.get, "/api/v1/abh/applications/\(id)", token: officer)
            #expect(read.headers[.eTag] == "\"2\"" && (read.object["history"] as? [[String: Any]])?.count == 2)

            // Witten's own ABH is another tenant: the application does not exist for it; a case manager may not use the register.
            let witten = try await Self.wittenOfficer(db)
            #expect(try await client.api(.get, "/api/v1/abh/applications/\(id)", token: witten).status == .notFound)
            #expect(try await client.api(.put, path, token: witten, json: change, headers: [.ifMatch: "\"2\""]).status == .notFound)
            #expect((try await client.api(.get, "/api/v1/abh/applications", token: witten).object["items"] as? [Any])?.isEmpty == true)
            #expect(try await client.api(.get, "/api/v1/abh/applications", token: people["wittenCM"].token).status == .forbidden)
        }
    }

    @Test func aPrecheckAskedAndAnsweredThroughTheAPI() async throws {
        try await TestApp.with { db, people, client in
            let caseManager = people["wittenCM"].token
            let clientID = try await CaseWorkflowTests.register(client, caseManager)
            let (caseID, _) = try await CaseWorkflowTests.openCase(client, caseManager, clientID)
            let abh = try await Self.tenantID(db, "en-kreis-abh")
            let asks = "/api/v1/cases/\(caseID)/prechecks"

            let withoutConsent = try await client.api(.post, asks, token: caseManager, json: #"{"abh":"\#(abh)","kind":"section_25b"}"#)
            #expect(withoutConsent.status == .unprocessableContent && Self.errors(withoutConsent)["consent"] != nil, "\(withoutConsent.text)")
            let badKind = try await client.api(.post, asks, token: caseManager, json: #"{"abh":"\#(abh)","kind":"25b","consent_given_on":"heute"}"#)
            #expect(Self.errors(badKind)["kind"] != nil && Self.errors(badKind)["consent_given_on"] != nil, "\(badKind.text)")
            let asked = try await client.api(
                .post,
                asks,
                token: caseManager,
                json: #"{"abh":"\#(abh)","kind":"section_25b","language_level":"A2","years_of_residence":6,"consent_given_on":"\#(Day.today.iso)"}"#
            )
            #expect(asked.status == .created, "\(asked.text)")
            let id = try #require(asked.object["id"] as? String)

            let officer = people["abh"].token
            let inbox = try await client.api(.get, "/api/v1/abh/prechecks", token: officer)
            #expect((inbox.object["items"] as? [[String: Any]])?.map { $0["id"] as? String } == [id], "\(inbox.text)")
            let read = try await client.api(.get, "/api/v1/abh/prechecks/\(id)", token: officer)
            #expect(read.headers[.eTag] == "\"0\"" && read.object["language_level"] as? String == "A2")
            #expect(read.object["case_id"] == nil || read.object["case_id"] is NSNull || read.object["case_id"] as? String == caseID)

            let answers = "/api/v1/abh/prechecks/\(id)/answers"
            let answer = #"{"verdict":"missing","note":"Sprachniveau B1"}"#
            #expect(try await client.api(.post, answers, token: officer, json: answer).status == .preconditionRequired)
            let badVerdict = try await client.api(.post, answers, token: officer, json: #"{"verdict":"vielleicht"}"#, headers: [.ifMatch: "\"0\""])
            #expect(badVerdict.status == .unprocessableContent && Self.errors(badVerdict)["verdict"] != nil)
            let noNote = try await client.api(.post, answers, token: officer, json: #"{"verdict":"missing"}"#, headers: [.ifMatch: "\"0\""])
            #expect(noNote.status == .unprocessableContent && Self.errors(noNote)["note"] != nil)
            let answered = try await client.api(.post, answers, token: officer, json: answer, headers: [.ifMatch: "\"0\""])
            #expect(answered.status == .ok, "\(answered.text)")
            #expect(answered.headers[.eTag] == "\"1\"")
            let stale = try await client.api(.post, answers, token: officer, json: #"{"verdict":"likely_eligible"}"#, headers: [.ifMatch: "\"0\""])
            #expect(stale.status == .preconditionFailed, "\(stale.text)")

            let seen = try await client.api(.get, asks, token: caseManager)
            let answersSeen = (seen.object["items"] as? [[String: Any]])?.first?["answers"] as? [[String: Any]]
            #expect(answersSeen?.map { $0["verdict"] as? String } == ["missing"] && answersSeen?.first?["note"] as? String == "Sprachniveau B1")

            // Another ABH and another town's case manager: 404.
            let witten = try await Self.wittenOfficer(db)
            #expect(try await client.api(.get, "/api/v1/abh/prechecks/\(id)", token: witten).status == .notFound)
            #expect(try await client.api(.post, answers, token: witten, json: answer, headers: [.ifMatch: "\"1\""]).status == .notFound)
            #expect(try await client.api(.get, asks, token: people["hattingenCM"].token).status == .notFound)
        }
    }

    @Test func theCampaignThroughTheAPICountsOnly() async throws {
        try await TestApp.with { db, people, client in
            let coordinator = people["coordinator"].token
            let witten = try await Self.tenantID(db, "witten")
            let bad = try await client.api(
                .post,
                "/api/v1/campaigns",
                token: coordinator,
                json: #"{"title":"","starts_on":"2026-03-01","ends_on":"2026-02-01","towns":[]}"#
            )
            #expect(bad.status == .unprocessableContent)
            #expect(Set(Self.errors(bad).keys) == ["title", "ends_on", "towns"], "\(bad.text)")
            #expect(
                Self.errors(try await client.api(.post, "/api/v1/campaigns", token: coordinator, json: #"{"starts_on":"März"}"#))["starts_on"] != nil
            )
            let created = try await client.api(
                .post,
                "/api/v1/campaigns",
                token: coordinator,
                json: #"{"title":"Einbürgerung lohnt sich","starts_on":"2026-03-01","ends_on":"2026-06-30","towns":["\#(witten)"]}"#
            )
            #expect(created.status == .created, "\(created.text)")
            let id = try #require(created.object["id"] as? String)
            let list = try await client.api(.get, "/api/v1/campaigns", token: coordinator)
            #expect((list.object["items"] as? [[String: Any]])?.map { $0["id"] as? String } == [id])
            let read = try await client.api(.get, "/api/v1/campaigns/\(id)", token: coordinator)
            #expect(read.status == .ok)
            #expect(read.headers[.eTag] == "\"1\"")
            let counts = try #require(read.object["counts"] as? [[String: Any]], "\(read.text)")
            #expect(counts.first?["town"] as? String == "Stadt Witten" && counts.first?["informed"] as? Int == 0)
            #expect(try await client.api(.get, "/api/v1/campaigns/\(id)", token: people["wittenCM"].token).status == .forbidden)

            // The plan changes on the version read: none is a 428, a stale one a 412, bad input a 422 naming the field.
            let plan = #"{"title":"Einbürgerung lohnt sich","starts_on":"2026-03-01","ends_on":"2026-09-30","towns":["\#(witten)"]}"#
            let campaignPath = "/api/v1/campaigns/\(id)"
            #expect(try await client.api(.put, campaignPath, token: coordinator, json: plan).status == .preconditionRequired)
            let badPlan = try await client.api(
                .put,
                campaignPath,
                token: coordinator,
                json: #"{"title":"Einbürgerung","starts_on":"2026-03-01","ends_on":"2026-09-30","towns":["\#(UUID())"]}"#,
                headers: [.ifMatch: "\"1\""]
            )
            #expect(badPlan.status == .unprocessableContent && Self.errors(badPlan)["towns"] != nil, "\(badPlan.text)")
            let replanned = try await client.api(.put, campaignPath, token: coordinator, json: plan, headers: [.ifMatch: "\"1\""])
            #expect(replanned.status == .ok, "\(replanned.text)")
            #expect(replanned.headers[.eTag] == "\"2\"" && replanned.object["ends_on"] as? String == "2026-09-30")
            let stalePlan = try await client.api(.put, campaignPath, token: coordinator, json: plan, headers: [.ifMatch: "\"1\""])
            #expect(stalePlan.status == .preconditionFailed, "\(stalePlan.text)")
            #expect(
                try await client.api(.put, "/api/v1/campaigns/\(UUID())", token: coordinator, json: plan, headers: [.ifMatch: "\"1\""]).status
                    == .notFound
            )

            // Witten's case workers see the campaign their town takes part in and record a client informed by case number;
            // Hattingen does not take part: 404.
            let caseManager = people["wittenCM"].token
            let (caseID, _) = try await CaseWorkflowTests.openCase(client, caseManager, try await CaseWorkflowTests.register(client, caseManager))
            let caseNumber = try await db.owner.withTransaction { connection in
                try await connection.query("SELECT case_number FROM cases WHERE id = \(UUID(uuidString: caseID)!)", logger: TestDatabase.logger)
                    .collect().first!.decode(String.self)
            }
            let ofTown = try await client.api(.get, "/api/v1/town-campaigns", token: caseManager)
            #expect((ofTown.object["items"] as? [[String: Any]])?.map { $0["id"] as? String } == [id], "\(ofTown.text)")
            let informed = "/api/v1/town-campaigns/\(id)/informed"
            let badHow = try await client.api(
                .post,
                informed,
                token: caseManager,
                json: #"{"case_number":"\#(caseNumber)","informed_on":"gestern","how":"per Brieftaube"}"#
            )
            #expect(Self.errors(badHow)["informed_on"] != nil, "\(badHow.text)")
            let badCase = try await client.api(
                .post,
                informed,
                token: caseManager,
                json: #"{"case_number":"WIT-0000-999","informed_on":"\#(Day.today.iso)","how":"pigeon"}"#
            )
            #expect(badCase.status == .unprocessableContent && Self.errors(badCase)["how"] != nil, "\(badCase.text)")
            let recorded = try await client.api(
                .post,
                informed,
                token: caseManager,
                json: #"{"case_number":"\#(caseNumber)","informed_on":"\#(Day.today.iso)","how":"handed"}"#
            )
            #expect(recorded.status == .noContent, "\(recorded.text)")
            #expect(try await client.api(.get, "/api/v1/town-campaigns/\(id)", token: caseManager).object["informed"] as? Int == 1)
            let twice = try await client.api(
                .post,
                informed,
                token: caseManager,
                json: #"{"case_number":"\#(caseNumber)","informed_on":"\#(Day.today.iso)","how":"sent"}"#
            )
            #expect(twice.status == .unprocessableContent && Self.errors(twice)["case_number"] != nil)
            #expect(try await client.api(.get, "/api/v1/town-campaigns/\(id)", token: people["hattingenCM"].token).status == .notFound)
            // The district's view stays counts only, suppressed: Witten's 1 is "<5".
            let district = try await client.api(.get, "/api/v1/campaigns/\(id)", token: coordinator)
            #expect((district.object["counts"] as? [[String: Any]])?.first?["informed"] as? String == "<5", "\(district.text)")
            #expect(!district.text.contains(caseNumber))
        }
    }
}
