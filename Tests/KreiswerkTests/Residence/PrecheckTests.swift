import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import Testing

@testable import Kreiswerk

/// Pre-checks between case managers and the ABH (issue 21): asked from a case with the client's hand-over consent, answered
/// by the ABH's officer, seen by the case manager and notified both ways; the consent's withdrawal ends the ABH's sight, other
/// tenants see nothing, a stale answer is refused, and bad input names its field.
@Suite struct PrecheckTests {
    /// A Witten client with a Duldung and an open case; the case's id and the client's id.
    static func caseWithDuldung(_ client: some TestClientProtocol, _ people: TestApp.People) async throws -> (caseID: String, clientID: String) {
        let cm = people["wittenCM"].token
        let json =
            #"{"first_name":"Samir","last_name":"Haddad","date_of_birth":"1990-04-02","languages":["ar"],"german_level":"A2","residence_title":"toleration","residence_valid_until":"2027-03-31""#
        let clientID = try await CaseWorkflowTests.register(client, cm, json: json)
        return (try await CaseWorkflowTests.openCase(client, cm, clientID).id.lowercased(), clientID)
    }

    static func signedIn(_ email: String, _ client: some TestClientProtocol) async throws -> WebBrowser {
        var browser = WebBrowser()
        _ = try await browser.signIn(email, client)
        return browser
    }

    static func abhTenant(_ db: TestDatabase, _ slug: String = "en-kreis-abh") async throws -> String {
        try await db.owner.withTransaction {
            try await $0.query("SELECT id FROM tenants WHERE slug = \(slug)", logger: TestDatabase.logger).collect().first!.decode(UUID.self)
        }.uuidString.lowercased()
    }

    /// Asks the district's ABH for a § 25b pre-check through the page; the pre-check's id.
    static func ask(_ browser: inout WebBrowser, caseID: String, abh: String, _ client: some TestClientProtocol) async throws -> String {
        let form = try await browser.get("/faelle/\(caseID)/vorpruefungen", client)
        #expect(form.status == .ok)
        #expect(form.text.contains("Duldung, gültig bis 31.03.2027"), "the status goes with the pre-check")
        let asked = try await browser.post(
            "/faelle/\(caseID)/vorpruefungen",
            [
                ("abh", abh), ("kind", "section_25b"), ("years_of_residence", "7"), ("language_level", "A2"), ("livelihood", "partly"),
                ("school_or_work", "Helfer im Lager, 30 Stunden"), ("missing", ""), ("question", "Reicht A2 mit Kurs?"), ("consent", "1"),
                ("consent_given_on", Day.today.iso),
            ],
            client
        )
        #expect(asked.status == .seeOther, "\(asked.text)")
        let page = try await browser.get("/faelle/\(caseID)/vorpruefungen?gefragt=1", client)
        #expect(page.text.contains("Vorprüfung angefragt; die Ausländerbehörde ist benachrichtigt."))
        // Nothing was said of what is missing: no label for it (the ask form's empty field must not stand in for it).
        #expect(!page.text.contains("Was nach Kenntnis des Fallmanagements noch fehlt"))
        let marker = try #require(page.text.range(of: #"data-precheck=""#))
        return String(page.text[marker.upperBound...].prefix(36))
    }

    @Test func aCaseManagerAsksTheABHWithConsentTheOfficerAnswersAndWithdrawalEndsItsSight() async throws {
        try await TestApp.with { db, people, client in
            let (caseID, clientID) = try await Self.caseWithDuldung(client, people)
            var cm = try await Self.signedIn(people["wittenCM"].email, client)
            let abh = try await Self.abhTenant(db)
            let id = try await Self.ask(&cm, caseID: caseID, abh: abh, client)

            // The ABH's officer is notified, finds it in the inbox and sees the minimal data, never the case.
            let officerInbox = try await client.api(.get, "/api/v1/notifications", token: people["abh"].token).array
            #expect(officerInbox.contains { $0["kind"] as? String == "precheck_asked" && $0["link"] as? String == "/abh/vorpruefungen/\(id)" })
            var officer = try await Self.signedIn(people["abh"].email, client)
            let inbox = try await officer.get("/abh/vorpruefungen", client)
            #expect(inbox.status == .ok)
            #expect(inbox.text.contains("Samir Haddad") && inbox.text.contains("1 Anfrage, davon 1 unbeantwortet"))
            let detail = try await officer.get("/abh/vorpruefungen/\(id)", client)
            #expect(detail.text.contains("Duldung, gültig bis 31.03.2027") && detail.text.contains("Helfer im Lager, 30 Stunden"))
            #expect(!detail.text.contains(caseID), "the ABH never learns the case")

            // "Missing" needs to say what; then the answer goes, and the case manager sees it and is notified.
            var answered = try await officer.post(
                "/abh/vorpruefungen/\(id)/antwort",
                [("version", "0"), ("verdict", "missing"), ("note", "")],
                client
            )
            #expect(answered.status == .unprocessableContent)
            #expect(answered.text.contains("Bitte angeben, was noch fehlt"))
            answered = try await officer.post(
                "/abh/vorpruefungen/\(id)/antwort",
                [("version", "0"), ("verdict", "missing"), ("note", "Sprachniveau B1")],
                client
            )
            #expect(answered.status == .seeOther, "\(answered.text)")
            let seen = try await cm.get("/faelle/\(caseID)/vorpruefungen", client)
            #expect(seen.text.contains("es fehlt noch etwas") && seen.text.contains("Sprachniveau B1"))
            let cmInbox = try await client.api(.get, "/api/v1/notifications", token: people["wittenCM"].token).array
            #expect(
                cmInbox.contains { $0["kind"] as? String == "precheck_answered" && $0["link"] as? String == "/faelle/\(caseID)/vorpruefungen" },
                "\(cmInbox)"
            )

            // A second answer on the stale page (version 0) is refused, never added.
            _ = try await officer.get("/abh/vorpruefungen/\(id)", client)
            let stale = try await officer.post(
                "/abh/vorpruefungen/\(id)/antwort",
                [("version", "0"), ("verdict", "likely_eligible"), ("note", "")],
                client
            )
            #expect(stale.status == .conflict)
            #expect(stale.text.contains("Inzwischen hat jemand anderes diese Vorprüfung beantwortet"))

            // The application that follows is recorded from the pre-check (name, birth and kind filled in) and linked; the case
            // manager learns that it came in, not more.
            let prefilled = try await officer.get("/abh/neuer-antrag?vorpruefung=\(id)", client)
            #expect(prefilled.text.contains(#"value="Samir""#) && prefilled.text.contains(#"value="1990-04-02""#))
            #expect(prefilled.text.contains(#"<option value="section_25b" selected>"#))
            let recorded = try await officer.post(
                "/abh/antraege",
                [
                    ("precheck_id", id), ("first_name", "Samir"), ("last_name", "Haddad"), ("date_of_birth", "1990-04-02"), ("kind", "section_25b"),
                    ("received_on", Day.today.iso), ("officer_id", ""), ("file_number", ""),
                ],
                client
            )
            #expect(recorded.status == .seeOther, "\(recorded.text)")
            let linked = try await db.owner.withTransaction {
                try await $0.query("SELECT precheck_id FROM abh_applications", logger: TestDatabase.logger).collect().first!.decode(UUID?.self)
            }
            #expect(linked?.uuidString.lowercased() == id)
            #expect(try await cm.get("/faelle/\(caseID)/vorpruefungen", client).text.contains("Antrag eingegangen"))

            // Withdrawing the hand-over consent ends the ABH's sight at once: its inbox is empty, the page and answering 404.
            let consents = try await client.api(.get, "/api/v1/clients/\(clientID)", token: people["wittenCM"].token).object["consents"]
            let handover = try #require(
                (consents as? [[String: Any]] ?? []).first { $0["scope"] as? String == "handover" }?["id"] as? String
            )
            #expect(
                try await client.api(.post, "/api/v1/clients/\(clientID)/consents/\(handover)/withdraw", token: people["wittenCM"].token, json: "{}")
                    .status == .noContent
            )
            #expect(try await officer.get("/abh/vorpruefungen", client).text.contains("0 Anfragen"))
            #expect(try await officer.get("/abh/vorpruefungen/\(id)", client).status == .notFound)
            _ = try await officer.get("/abh/vorpruefungen", client)
            let afterWithdrawal = try await officer.post(
                "/abh/vorpruefungen/\(id)/antwort",
                [("version", "1"), ("verdict", "likely_eligible"), ("note", "")],
                client
            )
            #expect(afterWithdrawal.status == .notFound)
            #expect(try await cm.get("/faelle/\(caseID)/vorpruefungen", client).text.contains("Zugriff der Ausländerbehörde beendet"))
        }
    }

    @Test func retentionAnonymisesThePrechecksWithTheirClient() async throws {
        try await TestApp.with { db, people, client in
            let (caseID, clientID) = try await Self.caseWithDuldung(client, people)
            var cm = try await Self.signedIn(people["wittenCM"].email, client)
            _ = try await Self.ask(&cm, caseID: caseID, abh: try await Self.abhTenant(db), client)
            let witten = try await Self.abhTenant(db, "witten")
            // As the retention job does it: acting for the town, it marks the client anonymised.
            try await db.app.withTenant(UUID(uuidString: witten)!) {
                try await $0.query(
                    "UPDATE clients SET anonymised_at = now() WHERE id = \(UUID(uuidString: clientID)!)",
                    logger: TestDatabase.logger
                )
            }
            let (name, birth, question) = try await db.owner.withTransaction {
                try await $0.query(
                    "SELECT last_name, to_char(date_of_birth, 'YYYY-MM-DD'), question FROM abh_prechecks",
                    logger: TestDatabase.logger
                ).collect().first!.decode((String, String, String?).self)
            }
            #expect(name == "(anonymisiert)" && birth == "1990-01-01" && question == nil)
        }
    }

    @Test func withoutConsentNothingIsAskedAndEveryProblemNamesItsField() async throws {
        try await TestApp.with { db, people, client in
            let (caseID, _) = try await Self.caseWithDuldung(client, people)
            var cm = try await Self.signedIn(people["wittenCM"].email, client)
            _ = try await cm.get("/faelle/\(caseID)/vorpruefungen", client)
            let refused = try await cm.post(
                "/faelle/\(caseID)/vorpruefungen",
                [("abh", ""), ("kind", ""), ("years_of_residence", "sieben"), ("language_level", ""), ("livelihood", ""), ("consent_given_on", "")],
                client
            )
            #expect(refused.status == .unprocessableContent)
            for message in [
                "Bitte die Ausländerbehörde wählen", "Bitte wählen, worum es geht", "Die Aufenthaltsjahre: bitte eine ganze Zahl",
                "Ohne Einwilligung des Klienten in die Übergabe an die Ausländerbehörde",
            ] {
                #expect(refused.text.contains(message), "\(message)")
            }
            // A tenant that is no ABH cannot be chosen.
            let awo = try await Self.abhTenant(db, "awo-en")
            _ = try await cm.get("/faelle/\(caseID)/vorpruefungen", client)
            let notAnABH = try await cm.post(
                "/faelle/\(caseID)/vorpruefungen",
                [("abh", awo), ("kind", "section_25b"), ("consent", "1"), ("consent_given_on", Day.today.iso)],
                client
            )
            #expect(notAnABH.status == .unprocessableContent)
            #expect(notAnABH.text.contains("Diese Ausländerbehörde gibt es in Ihrem Kreis nicht"))
            let count = try await db.owner.withTransaction {
                try await $0.query("SELECT count(*)::integer FROM abh_prechecks", logger: TestDatabase.logger).collect().first!.decode(Int.self)
            }
            #expect(count == 0)
        }
    }

    @Test func otherTenantsSeeNothingAndThePersonalDataStayWithTheAskerAndTheABH() async throws {
        try await TestApp.with { db, people, client in
            let (caseID, _) = try await Self.caseWithDuldung(client, people)
            var cm = try await Self.signedIn(people["wittenCM"].email, client)
            let id = try await Self.ask(&cm, caseID: caseID, abh: try await Self.abhTenant(db), client)
            // Another town's case manager: the case's page is not theirs.
            var hattingen = try await Self.signedIn(people["hattingenCM"].email, client)
            #expect(try await hattingen.get("/faelle/\(caseID)/vorpruefungen", client).status == .notFound)
            // The AWO's partner and the district's coordinator reach neither the inbox nor the pre-check.
            for name in ["partner", "coordinator", "wittenLead"] {
                var other = try await Self.signedIn(people[name].email, client)
                #expect(try await other.get("/abh/vorpruefungen/\(id)", client).status != .ok, "\(name)")
            }
            // In the database: an ABH officer of another ABH tenant reads no row, and even the district tenant none.
            for slug in ["en-kreis", "hattingen", "awo-en"] {
                let tenant = try await db.owner.withTransaction {
                    try await $0.query("SELECT id FROM tenants WHERE slug = \(slug)", logger: TestDatabase.logger).collect().first!.decode(UUID.self)
                }
                let rows = try await db.app.withTenant(tenant) {
                    try await $0.query("SELECT count(*)::integer FROM abh_prechecks", logger: TestDatabase.logger).collect().first!.decode(Int.self)
                }
                #expect(rows == 0, "\(slug)")
            }
        }
    }
}
