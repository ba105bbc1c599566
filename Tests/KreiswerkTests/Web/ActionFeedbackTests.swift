import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Kreiswerk

/// Every action answers (issue 17): after it, the page says what was done; on an error the summary lists the errors in the
/// form's order and is where the form's action leads (`#form-errors`, tabindex -1: no JavaScript needed), each message sits
/// next to its field, and the form keeps what was chosen and typed.
@Suite struct ActionFeedbackTests {
    @Test func theErrorSummaryFollowsTheFormAndIsWhereTheFormLeads() async throws {
        try await TestApp.with { _, people, client in
            var browser = WebBrowser()
            _ = try await browser.signIn(people["wittenCM"].email, client)
            let intake = try await browser.get("/aufnahme", client).text
            #expect(intake.contains(#"action="/aufnahme#form-errors""#))
            let refused = try await browser.post("/aufnahme", [("first_name", ""), ("last_name", ""), ("date_of_birth", "")], client)
            #expect(refused.status == .unprocessableContent)
            let text = refused.text
            #expect(text.contains(#"id="form-errors" class="alert alert-error" role="alert" tabindex="-1""#))
            let start = try #require(text.range(of: "id=\"form-errors\"")).lowerBound
            let summary = String(text[start...].prefix(2000))
            let order = ["#first_name", "#last_name", "#date_of_birth"].map { summary.range(of: "href=\"\($0)\"")?.lowerBound }
            #expect(order.allSatisfy { $0 != nil }, "\(summary)")
            #expect(order.compactMap { $0 } == order.compactMap { $0 }.sorted(), "the summary lists the errors in the form's order")
        }
    }

    @Test func aReferralSaysWhatItDidAndKeepsWhatWasTypedOnAnError() async throws {
        try await TestApp.with { db, people, client in
            var browser = WebBrowser()
            _ = try await browser.signIn(people["wittenCM"].email, client)
            _ = try await browser.get("/aufnahme", client)
            let casePath = try #require(try await browser.post("/aufnahme", CasePageTests.intake, client).headers[.location])
            let page = try await browser.get(casePath, client).text
            let service = String(try #require(page.firstMatch(of: /<option value="([0-9a-f-]{36})">[^<]*AWO/)?.1))

            // Without the hand-over tick: the error next to the tick, in the referral form, with the service and reason kept.
            let refused = try await browser.post(
                "\(casePath)/verweisungen",
                [("service_id", service), ("reason", "Anerkennung des Abschlusses")],
                client
            )
            #expect(refused.status == .unprocessableContent)
            let form = try #require(refused.text.firstMatch(of: /<form id="refer"[\s\S]*?<\/form>/)?.0)
            #expect(form.contains(#"id="referral_consent-error""#), "the error sits next to the tick")
            #expect(form.contains(#"<option value="\#(service)" selected>"#), "the chosen service is kept")
            #expect(form.contains("Anerkennung des Abschlusses</textarea>"), "the typed reason is kept")
            #expect(refused.text.contains(##"<a href="#referral_consent">Einwilligung in die Übergabe</a>"##))

            let sent = try await browser.referToAWO(casePath, client)
            let after = try await browser.get(try #require(sent.headers[.location]), client).text
            #expect(after.contains(#"role="status">Verweisung an "#), "the case page says what was sent")
            #expect(after.contains("(AWO Ennepe-Ruhr) gesendet.</div>"))

            // The carrier's answers say what they did.
            let awo = try await ReferralGrantTests.carrierStaff(db)
            var carrier = WebBrowser()
            _ = try await carrier.signIn(awo.email, client)
            let referral = try #require(try await carrier.get("/verweisungen", client).text.firstMatch(of: /data-referral="([0-9a-f-]{36})"/)?.1)
            let accepted = try await carrier.post("/verweisungen/\(referral)/antwort", [("kind", "accepted")], client)
            #expect(try await carrier.get(try #require(accepted.headers[.location]), client).text.contains("Verweisung für Yusuf Demir"))
            #expect(carrier.lastPage.contains("angenommen; die verweisende Stelle sieht es."))
            let reported = try await carrier.post(
                "/verweisungen/\(referral)/antwort",
                [("kind", "feedback"), ("outcome", Referral.outcomes.keys.sorted()[0]), ("note", "Antrag gestellt")],
                client
            )
            #expect(
                try await carrier.get(try #require(reported.headers[.location]), client).text.contains("Rückmeldung zur Verweisung für Yusuf Demir")
            )
        }
    }
}
