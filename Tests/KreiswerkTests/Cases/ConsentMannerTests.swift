import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Kreiswerk

/// A consent recorded as part of another form says how it was given, as the intake's does (issue 17): the hand-over
/// consent of a referral (on the case page and the service page), the client's consent to a conference (planning it,
/// inviting more) and the consent a level-2 report carries into the case it opens. The fields are one partial
/// (`consent-manner`), nothing is ticked or chosen in advance, a page refuses a ticked consent that does not say how it
/// was given (422, the summary linking to the field, the input kept), and the client page says it in words.
@Suite struct ConsentMannerTests {
    /// The `<select>` of `id` in `page` and whether any of its options is selected.
    static func select(_ id: String, in page: String) -> (found: Bool, selected: Bool) {
        guard let start = page.range(of: #"<select id="\#(id)""#)?.lowerBound, let end = page[start...].range(of: "</select>")?.upperBound else {
            return (false, false)
        }
        return (true, page[start..<end].contains(" selected"))
    }

    static func clientPath(of casePage: String) throws -> String {
        String(try #require(casePage.firstMatch(of: /href="(\/klienten\/[0-9a-f-]{36})"/)?.1))
    }

    /// The client's consents through the API, as `scope: how (language)` strings.
    static func consents(_ client: some TestClientProtocol, _ token: String, clientID: String) async throws -> [String] {
        let record = try await client.api(.get, "/api/v1/clients/\(clientID)", token: token).object
        return (record["consents"] as? [[String: Any]] ?? []).map {
            "\($0["scope"] as? String ?? "?"): \($0["given_how"] as? String ?? "-")\(($0["interpreter_language"] as? String).map { " (\($0))" } ?? "")"
        }
    }

    /// Witten's case manager takes Yusuf Demir in through the intake: her browser, the case's path and its page.
    static func intake(_ people: TestApp.People, _ client: some TestClientProtocol) async throws -> (WebBrowser, String, String) {
        var browser = WebBrowser()
        _ = try await browser.signIn(people["wittenCM"].email, client)
        _ = try await browser.get("/aufnahme", client)
        let casePath = try #require(try await browser.post("/aufnahme", CasePageTests.intake, client).headers[.location])
        return (browser, casePath, try await browser.get(casePath, client).text)
    }

    @Test func aReferralsHandOverConsentSaysHowItWasGiven() async throws {
        try await TestApp.with { _, people, client in
            var (browser, casePath, page) = try await Self.intake(people, client)
            let form = try #require(page.firstMatch(of: /<form id="refer"[\s\S]*?<\/form>/)?.0)
            #expect(!(CasePageActionsTests.tag("referral_consent", in: String(form)) ?? "checked").contains("checked"))
            #expect(Self.select("referral_consent_given_how", in: String(form)) == (true, false), "how it was given is not preselected")
            let service = String(try #require(page.firstMatch(of: /<option value="([0-9a-f-]{36})">[^<]*AWO/)?.1))

            // Ticked, but not said how: refused, the summary links to the field, what was chosen and typed is kept.
            let base = [("service_id", service), ("reason", "Anerkennung des Abschlusses"), ("consent", "1"), ("consent_given_on", "2026-01-10")]
            let unsaid = try await browser.post("\(casePath)/verweisungen", base, client)
            #expect(unsaid.status == .unprocessableContent)
            #expect(unsaid.text.contains(##"<a href="#referral_consent_given_how">"##), "the summary links to the field")
            #expect(unsaid.text.contains(#"id="referral_consent_given_how-error""#))
            #expect(unsaid.text.contains("Anerkennung des Abschlusses</textarea>"))
            let noLanguage = try await browser.post("\(casePath)/verweisungen", base + [("consent_given_how", "with_interpreter")], client)
            #expect(noLanguage.status == .unprocessableContent)
            #expect(noLanguage.text.contains(##"<a href="#referral_consent_interpreter_language">"##))
            #expect(noLanguage.text.contains(#"<option value="with_interpreter" selected>"#), "the choice is kept")

            let sent = try await browser.post(
                "\(casePath)/verweisungen",
                base + [("consent_given_how", "with_interpreter"), ("consent_interpreter_language", "Arabisch")],
                client
            )
            #expect(sent.status == .seeOther, "\(sent.text)")
            let clientPage = try await browser.get(try Self.clientPath(of: page), client).text
            #expect(
                clientPage.contains("gegeben am 10.01.2026, mit Dolmetschung (Arabisch)"),
                "the client page says how the hand-over consent was given"
            )

            // The API records it the same way, and names the field it refuses.
            let cm = people["wittenCM"].token
            let (clientID, caseID) = try await OwnAdministrationReferralTests.openCase(client, cm, town: "Witten")
            let refused = try await client.api(
                .post,
                "/api/v1/cases/\(caseID)/referrals",
                token: cm,
                json: #"{"service_id":"\#(service)","reason":"Beratung","consent_given_on":"2026-02-01","consent_given_how":"with_interpreter"}"#
            )
            #expect(refused.status == .unprocessableContent)
            #expect((refused.object["errors"] as? [String: Any])?["consent_interpreter_language"] != nil, "\(refused.text)")
            let orally = try await client.api(
                .post,
                "/api/v1/cases/\(caseID)/referrals",
                token: cm,
                json: #"{"service_id":"\#(service)","reason":"Beratung","consent_given_on":"2026-02-01","consent_given_how":"orally"}"#
            )
            #expect(orally.status == .created, "\(orally.text)")
            #expect(try await Self.consents(client, cm, clientID: clientID).contains("handover: orally"))
        }
    }

    @Test func aConferencesConsentSaysHowItWasGivenWhenPlannedAndWhenMoreAreInvited() async throws {
        try await TestApp.with { _, people, client in
            var (browser, casePath, page) = try await Self.intake(people, client)
            let form = try #require(page.firstMatch(of: /<form id="plan-conference"[\s\S]*?<\/form>/)?.0)
            #expect(Self.select("conference_consent_given_how", in: String(form)) == (true, false))
            let plan = [
                ("kind", "municipal"), ("title", "Wohnung und Schule"), ("scheduled_at", "2030-05-02T10:00"), ("participants", "awo-en"),
                ("summary", "Schulanmeldung offen."), ("consent", "1"),
            ]
            let unsaid = try await browser.post("\(casePath)/konferenzen", plan, client)
            #expect(unsaid.status == .unprocessableContent)
            #expect(unsaid.text.contains(##"<a href="#conference_consent_given_how">"##), "the summary links to the field")
            #expect(unsaid.text.contains(#"id="conference_consent_given_how-error""#))
            #expect(unsaid.text.contains(">Schulanmeldung offen.</textarea>"))
            let planned = try await browser.post(
                "\(casePath)/konferenzen",
                plan + [("consent_given_how", "with_interpreter"), ("consent_interpreter_language", "Türkisch")],
                client
            )
            #expect(planned.status == .seeOther, "\(planned.text)")
            let conference = try #require(planned.headers[.location])

            // Inviting more records the client's consent anew, said how.
            let conferencePage = try await browser.get(conference, client).text
            #expect(Self.select("consent_given_how", in: conferencePage) == (true, false))
            let more = [("participants", "en-kreis-abh"), ("consent", "1")]
            let moreUnsaid = try await browser.post("\(conference)/teilnehmende", more, client)
            #expect(moreUnsaid.status == .unprocessableContent)
            #expect(moreUnsaid.text.contains(##"<a href="#consent_given_how">"##), "\(moreUnsaid.text)")
            let invited = try await browser.post("\(conference)/teilnehmende", more + [("consent_given_how", "orally")], client)
            #expect(invited.status == .seeOther, "\(invited.text)")

            let clientPage = try await browser.get(try Self.clientPath(of: page), client).text
            #expect(clientPage.contains("Übergabe an Fallkonferenz „Wohnung und Schule“: in Kraft"))
            #expect(clientPage.contains("mit Dolmetschung (Türkisch)"))
            #expect(clientPage.contains("(weitere Teilnehmende): in Kraft"))
            #expect(clientPage.contains("mündlich"))
        }
    }

    @Test func aLevel2ReportCarriesHowTheConsentWasGivenIntoTheCase() async throws {
        try await TestApp.with { _, people, client in
            var partner = WebBrowser()
            _ = try await partner.signIn(people["partner"].email, client)
            let empty = try await partner.get("/meldungen", client).text
            #expect(!(CasePageActionsTests.tag("consent", in: empty) ?? "checked").contains("checked"), "not ticked in advance")
            #expect(Self.select("consent_given_how", in: empty) == (true, false), "how it was given is not preselected")
            let report = [
                ("town", "witten"), ("complexity", "structural_gap"), ("first_name", "Olena"), ("last_name", "Koval"),
                ("date_of_birth", "1990-04-04"),
                ("languages", "uk"), ("description", "Kein Sprachkurs mit Kinderbetreuung erreichbar."), ("consent", "1"),
            ]
            let unsaid = try await partner.post("/meldungen", report, client)
            #expect(unsaid.status == .unprocessableContent)
            #expect(unsaid.text.contains(##"<a href="#consent_given_how">"##), "\(unsaid.text)")
            #expect(unsaid.text.contains(#"value="Olena""#) && (CasePageActionsTests.tag("consent", in: unsaid.text) ?? "").contains("checked"))
            let sent = try await partner.post("/meldungen", report + [("consent_given_how", "in_writing")], client)
            #expect(sent.status == .seeOther, "\(sent.text)")

            let cm = people["wittenCM"].token
            let inbox = try await client.api(.get, "/api/v1/reports/inbox", token: cm).array
            let id = try #require(inbox.first?["id"] as? String)
            #expect(inbox.first?["consent_given_how"] as? String == "in_writing")
            var team = WebBrowser()
            _ = try await team.signIn(people["wittenCM"].email, client)
            #expect(try await team.get("/meldungen", client).text.contains("schriftlich (unterschriebenes Formular)"))
            let accepted = try await client.api(.post, "/api/v1/reports/\(id)/decision", token: cm, json: #"{"decision":"accepted"}"#)
            let caseID = try #require(accepted.object["case_id"] as? String)
            let view = try await client.api(.get, "/api/v1/cases/\(caseID)", token: cm).object
            let clientID = try #require((view["client"] as? [String: Any])?["id"] as? String, "\(view)")
            #expect(try await Self.consents(client, cm, clientID: clientID) == ["case_management: in_writing"])

            // Through the API: optional, but checked when said.
            let noLanguage = try await client.api(
                .post,
                "/api/v1/reports",
                token: people["partner"].token,
                json: Level2ReportTests.report.replacingOccurrences(of: "}", with: #","consent_given_how":"with_interpreter"}"#)
            )
            #expect(noLanguage.status == .unprocessableContent)
            #expect((noLanguage.object["errors"] as? [String: Any])?["consent_interpreter_language"] != nil, "\(noLanguage.text)")
        }
    }
}
