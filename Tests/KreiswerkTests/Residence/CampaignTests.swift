import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import Testing

@testable import Kreiswerk

/// The naturalisation campaign (issue 21): the coordinators plan it with towns, events and a letter in several languages; a
/// participating town's case manager records clients informed; the district reads counts per town, suppressed, never names;
/// a town that does not take part and another district see nothing.
@Suite struct CampaignTests {
    static func signedIn(_ email: String, _ client: some TestClientProtocol) async throws -> WebBrowser {
        var browser = WebBrowser()
        _ = try await browser.signIn(email, client)
        return browser
    }

    static func tenantID(_ db: TestDatabase, _ slug: String) async throws -> String {
        try await db.owner.withTransaction {
            try await $0.query("SELECT id FROM tenants WHERE slug = \(slug)", logger: TestDatabase.logger).collect().first!.decode(UUID.self)
        }.uuidString.lowercased()
    }

    /// The coordinator starts a campaign with Witten and Herdecke; its id.
    static func start(_ coordinator: inout WebBrowser, _ db: TestDatabase, _ client: some TestClientProtocol) async throws -> String {
        _ = try await coordinator.get("/kampagnen", client)
        let created = try await coordinator.post(
            "/kampagnen",
            [
                ("title", "Einbürgerung 2027"), ("starts_on", Day(Date().addingTimeInterval(-30 * 86_400)).iso),
                ("ends_on", Day(Date().addingTimeInterval(90 * 86_400)).iso), ("description", "Informieren, vorprüfen, beantragen."),
                ("towns", try await tenantID(db, "witten")), ("towns", try await tenantID(db, "herdecke")),
            ],
            client
        )
        #expect(created.status == .seeOther, "\(created.text)")
        let location = try #require(created.headers[.location])
        return String(location.dropFirst("/kampagnen/".count).prefix(36))
    }

    @Test func theCoordinatorsRunTheCampaignAndTheDistrictSeesCountsPerTownOnly() async throws {
        try await TestApp.with { db, people, client in
            var coordinator = try await Self.signedIn(people["coordinator"].email, client)
            let id = try await Self.start(&coordinator, db, client)
            _ = try await coordinator.get("/kampagnen/\(id)", client)
            var added = try await coordinator.post(
                "/kampagnen/\(id)/schreiben",
                [("language", "ar"), ("body", "مرحبا، يمكنك التقدم بطلب للحصول على الجنسية.")],
                client
            )
            #expect(added.status == .seeOther, "\(added.text)")
            _ = try await coordinator.get("/kampagnen/\(id)", client)
            added = try await coordinator.post(
                "/kampagnen/\(id)/veranstaltungen",
                [("held_on", Day.today.iso), ("event_title", "Infoabend Einbürgerung"), ("place", "Rathaus Witten"), ("town_id", "")],
                client
            )
            #expect(added.status == .seeOther, "\(added.text)")

            // A Witten case manager reads the letter and the event and records two clients informed, once each.
            let cm = people["wittenCM"].token
            var numbers: [String] = []
            for name in ["Amira", "Samir"] {
                let clientID = try await CaseWorkflowTests.register(
                    client,
                    cm,
                    json: #"{"first_name":"\#(name)","last_name":"Haddad","date_of_birth":"1990-04-02""#
                )
                let caseID = try await CaseWorkflowTests.openCase(client, cm, clientID).id
                let view = try await client.api(.get, "/api/v1/cases/\(caseID)", token: cm).object
                numbers.append(try #require((view["case"] as? [String: Any])?["case_number"] as? String))
            }
            var witten = try await Self.signedIn(people["wittenCM"].email, client)
            let page = try await witten.get("/kampagne/\(id)", client)
            #expect(page.status == .ok)
            #expect(page.text.contains("Infoabend Einbürgerung") && page.text.contains(#"lang="ar""#))
            for number in numbers {
                _ = try await witten.get("/kampagne/\(id)", client)
                let informed = try await witten.post(
                    "/kampagne/\(id)/informiert",
                    [("case_number", number), ("informed_on", Day.today.iso), ("how", "handed")],
                    client
                )
                #expect(informed.status == .seeOther, "\(informed.text)")
            }
            _ = try await witten.get("/kampagne/\(id)", client)
            let twice = try await witten.post(
                "/kampagne/\(id)/informiert",
                [("case_number", numbers[0]), ("informed_on", Day.today.iso), ("how", "sent")],
                client
            )
            #expect(twice.status == .unprocessableContent)
            #expect(twice.text.contains("schon als informiert eingetragen"))
            #expect(try await witten.get("/kampagne/\(id)", client).text.contains("Aus Ihrer Stadt informiert: 2 Klienten"))

            // The district sees Witten's 2 as "<5" (and Herdecke's 0), never a name; the total would give it away: withheld.
            let counts = try await coordinator.get("/kampagnen/\(id)", client)
            #expect(counts.text.contains(#"<th scope="row">Stadt Witten</th><td>&lt;5</td>"#), "\(counts.text)")
            #expect(!counts.text.contains("Haddad") && !counts.text.contains("Amira"))

            // Hattingen does not take part: it sees no campaign, and its page is not found.
            var hattingen = try await Self.signedIn(people["hattingenCM"].email, client)
            #expect(try await hattingen.get("/kampagne", client).text.contains("Ihre Stadt nimmt an keiner Kampagne teil."))
            #expect(try await hattingen.get("/kampagne/\(id)", client).status == .notFound)
            // The district's counts are the coordinators': a case manager cannot call for them, even in the database.
            let witten_ = try await Self.tenantID(db, "witten")
            let rows = try await db.app.withTenant(UUID(uuidString: witten_)!) {
                try await $0.query("SELECT count(*)::integer FROM campaign_counts(\(UUID(uuidString: id)!))", logger: TestDatabase.logger).collect()
                    .first!.decode(Int.self)
            }
            #expect(rows == 0)
        }
    }

    @Test func badInputNamesItsFieldAndNothingIsSaved() async throws {
        try await TestApp.with { db, people, client in
            var coordinator = try await Self.signedIn(people["coordinator"].email, client)
            _ = try await coordinator.get("/kampagnen", client)
            let refused = try await coordinator.post(
                "/kampagnen",
                [("title", ""), ("starts_on", "2027-05-01"), ("ends_on", "2027-04-01"), ("description", "")],
                client
            )
            #expect(refused.status == .unprocessableContent)
            for message in ["Bitte der Kampagne einen Titel", "Das Ende liegt vor dem Beginn", "Bitte mindestens eine teilnehmende Stadt"] {
                #expect(refused.text.contains(message), "\(message)")
            }
            let id = try await Self.start(&coordinator, db, client)
            _ = try await coordinator.get("/kampagnen/\(id)", client)
            let letter = try await coordinator.post("/kampagnen/\(id)/schreiben", [("language", "xx"), ("body", "")], client)
            #expect(letter.status == .unprocessableContent)
            #expect(letter.text.contains("Bitte die Sprache des Schreibens") && letter.text.contains("Bitte den Text des Schreibens"))
            var witten = try await Self.signedIn(people["wittenCM"].email, client)
            _ = try await witten.get("/kampagne/\(id)", client)
            let unknown = try await witten.post(
                "/kampagne/\(id)/informiert",
                [("case_number", "W-0000"), ("informed_on", Day.today.iso), ("how", "")],
                client
            )
            #expect(unknown.status == .unprocessableContent)
            #expect(unknown.text.contains("Bitte wählen, wie informiert wurde"))
            let saved = try await db.owner.withTransaction {
                try await $0.query(
                    "SELECT (SELECT count(*) FROM campaign_letters) + (SELECT count(*) FROM campaign_contacts)",
                    logger: TestDatabase.logger
                )
                .collect().first!.decode(Int.self)
            }
            #expect(saved == 0)
        }
    }
}
