import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Kreiswerk

/// What a page says is true: a value that is not there shows no label (issue 17). Each object is rendered in the state in
/// which it used to show a label without its value: a newly planned conference, a valid consent, a referral without answers
/// and one accepted without a note, a problem without group or solution, the figures page, a client with an open case.
@Suite struct TruthfulPagesTests {
    /// Labels that were seen without their values; none may appear on any page.
    static let labelsWithoutValue = [
        "Abgesagt am :", "() –", " ()", "gültig bis ,", "gültig bis <", "widerrufen zum <", "widerrufen zum\n", "Ergebnis:  ",
        "<dd></dd>", "role=\"status\"></div>", ": </dd>",
    ]

    static func expectTruthful(_ page: String, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) {
        for label in labelsWithoutValue {
            #expect(!page.contains(label), "\(name) shows „\(label)“ without its value", sourceLocation: sourceLocation)
        }
    }

    @Test func absentValuesShowNoLabel() async throws {
        try await TestApp.with { db, people, client in
            var browser = WebBrowser()
            _ = try await browser.signIn(people["wittenCM"].email, client)
            _ = try await browser.get("/aufnahme", client)
            let created = try await browser.post("/aufnahme", CasePageTests.intake, client)
            let casePath = try #require(created.headers[.location])

            // The client with an open case and a valid, unlimited consent.
            let casePage = try await browser.get(casePath, client).text
            let clientPath = try #require(casePage.firstMatch(of: /href="(\/klienten\/[0-9a-f-]{36})"/)?.1)
            let clientPage = try await browser.get(String(clientPath), client).text
            Self.expectTruthful(clientPage, "the client page")
            #expect(!clientPage.contains("Noch kein Fall."), "the client has an open case")
            #expect(!clientPage.contains("id=\"open-case\""), "no second case while one is open")
            #expect(!clientPage.contains("gültig bis") && !clientPage.contains("widerrufen zum"))

            // A newly planned conference is not called off.
            _ = try await browser.get(casePath, client)
            let planned = try await browser.post(
                "\(casePath)/konferenzen",
                [
                    ("kind", "municipal"), ("title", "Übergang Schule"), ("scheduled_at", "2026-12-01T10:00"), ("participants", "awo-en"),
                    ("summary", "Schulanmeldung offen."), ("consent", "1"), ("consent_given_how", "orally"),
                ],
                client
            )
            let conferencePath = try #require(planned.headers[.location])
            var conference = try await browser.get(conferencePath, client).text
            Self.expectTruthful(conference, "a planned conference")
            #expect(!conference.contains("(witten)"), "the organiser by name, not by slug")
            #expect(!conference.contains("Abgesagt") && !conference.contains("abgesagt"))
            #expect(!(try await browser.get("/konferenzen", client).text.contains("abgesagt")))
            let version = try #require(conference.firstMatch(of: /name="version" value="(\d+)"/)?.1)
            let cancelled = try await browser.post(
                "\(conferencePath)/absage",
                [("reason", "Termin entfällt."), ("version", String(version))],
                client
            )
            #expect(cancelled.status == .seeOther)
            conference = try await browser.get(try #require(cancelled.headers[.location]), client).text
            #expect(conference.contains("Fallkonferenz abgesagt; die namentlich Eingeladenen werden benachrichtigt."), "the page says what was done")
            #expect(conference.contains("Abgesagt am ") && conference.contains("Termin entfällt."))
            #expect(try await browser.get("/konferenzen", client).text.contains("abgesagt"))

            // A referral without answers, then accepted without a note.
            #expect(try await browser.referToAWO(casePath, client).status == .seeOther)
            Self.expectTruthful(try await browser.get(casePath, client).text, "the case page with a referral")
            let awo = try await ReferralGrantTests.carrierStaff(db)
            var partner = WebBrowser()
            _ = try await partner.signIn(awo.email, client)
            let incoming = try await partner.get("/verweisungen", client).text
            Self.expectTruthful(incoming, "the incoming referrals")
            #expect(incoming.contains("Stadt Witten (Fall") && !incoming.contains(", witten (Fall"), "the sender by name, not by slug")
            let referral = try #require(incoming.firstMatch(of: /data-referral="([0-9a-f-]{36})"/)?.1)
            #expect(try await partner.post("/verweisungen/\(referral)/antwort", [("kind", "accepted")], client).status == .seeOther)
            Self.expectTruthful(try await partner.get("/verweisungen", client).text, "an accepted referral")
            Self.expectTruthful(try await browser.get(casePath, client).text, "the case page with an accepted referral")

            // A problem without group or solution.
            _ = try await browser.get("/probleme", client)
            let raised = try await browser.post(
                "/probleme",
                [
                    ("title", "Kein Schulplatz"), ("category", "structural_gap"), ("description", "Wartezeit über sechs Monate."),
                    ("legal_spheres", "SGB VIII"), ("case_ids", String(casePath.dropFirst("/faelle/".count))),
                ],
                client
            )
            let problemPath = try #require(raised.headers[.location], "\(raised.text.prefix(800))")
            var coordinator = WebBrowser()
            _ = try await coordinator.signIn(people["coordinator"].email, client)
            for browsing in [browser, coordinator] {
                var browsing = browsing
                let problem = try await browsing.get(problemPath, client).text
                Self.expectTruthful(problem, "a problem without solution")
                #expect(!problem.contains("id=\"solution-heading\"") && !problem.contains("id=\"submission-heading\""))
                #expect(!problem.contains("<dt>Projektgruppe</dt>"))
            }

            // Nothing due and nothing unread is not shown as „davon 0“ or „0 ungelesen“; German plurals.
            let myCases = try await browser.get("/faelle", client).text
            #expect(!myCases.contains("davon <strong>0") && myCases.contains("1 offener Fall"))
            let inbox = try await partner.get("/benachrichtigungen", client).text
            #expect(!inbox.contains("(0 ungelesen)") && !inbox.contains("Alle als gelesen markieren") || inbox.contains("Neu:"))
            #expect(try await partner.get("/verweisungen", client).text.contains("<p>1 Verweisung an Ihre"))

            // The figures page without a refresh asked for: no empty notice.
            let figures = try await coordinator.get("/kennzahlen", client).text
            Self.expectTruthful(figures, "the figures page")
            #expect(!figures.contains("alert-info"))
        }
    }
}

extension WebBrowser {
    /// Sends a referral to AWO's migration counselling through the form on the case page, with the client's consent.
    mutating func referToAWO(_ casePath: String, _ client: some TestClientProtocol) async throws -> TestResponse {
        let page = try await get(casePath, client).text
        let service = try #require(page.firstMatch(of: /<option value="([0-9a-f-]{36})">[^<]*AWO/)?.1)
        return try await post(
            "\(casePath)/verweisungen",
            [
                ("service_id", String(service)), ("reason", "Beratung zur Anerkennung"), ("consent", "1"), ("consent_given_on", "2026-01-10"),
                ("consent_given_how", "in_writing"),
            ],
            client
        )
    }
}
