import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Kreiswerk

/// Consent is the client's explicit act, and nothing with consequences is chosen for the user (issue 17): the intake's consent
/// is never ticked, a withdrawal is confirmed on a page that says what it ends and then says what it did, and the goal review,
/// the hand-over and a referral's outcome start without a choice and are refused (422, naming the field) without one.
@Suite struct ConsentPageTests {
    @Test func consentIsNeverTickedAndAWithdrawalIsConfirmedAndReported() async throws {
        try await TestApp.with { db, people, client in
            var browser = WebBrowser()
            _ = try await browser.signIn(people["wittenCM"].email, client)
            let intake = try await browser.get("/aufnahme", client).text
            let checkbox = try #require(intake.firstMatch(of: /<input type="checkbox" id="consent"[^>]*>/)?.0)
            #expect(!checkbox.contains("checked"), "the consent checkbox is not ticked: \(checkbox)")
            let created = try await browser.post("/aufnahme", CasePageTests.intake, client)
            let casePath = try #require(created.headers[.location])
            let page = try await browser.get(casePath, client).text
            #expect(try await browser.referToAWO(casePath, client).status == .seeOther)
            let clientPath = String(try #require(page.firstMatch(of: /href="(\/klienten\/[0-9a-f-]{36})"/)?.1))
            let clientPage = try await browser.get(clientPath, client).text
            #expect(!clientPage.contains("class=\"link-button\">Widerruf erfassen"), "no withdrawal in one tap")
            #expect(clientPage.contains("Case Management: in Kraft, unbefristet"), "the consent's state in words")
            let printable = try await browser.get("\(clientPath)/einwilligungsformular", client)
            #expect(printable.status == .ok && printable.text.contains("Ich, <strong>Yusuf Demir</strong>, geboren am 02.10.1988"))
            #expect(printable.text.contains("Ich kann jederzeit Nein sagen") && printable.text.contains("Unterschrift"))
            let link = try #require(
                clientPage.firstMatch(
                    of:
                        /href="(\/klienten\/[0-9a-f-]{36}\/einwilligungen\/[0-9a-f-]{36}\/widerruf)">Widerruf erfassen<span class="visually-hidden"> \(Case Management\)/
                )?.1
            )

            // The confirmation says what it ends and from when; nothing has happened yet.
            let confirm = try await browser.get(String(link), client)
            #expect(confirm.status == .ok)
            #expect(confirm.text.contains("ab heute, \(Day.today.german)"))
            #expect(confirm.text.contains("jeden Zugriff von Beratungsstellen"))
            let losing = try #require(confirm.text.firstMatch(of: /<ul id="withdrawal-losing"[\s\S]*?<\/ul>/)?.0)
            #expect(losing.contains("Verweisung an ") && losing.contains("(AWO Ennepe-Ruhr), vom "), "the referral that loses access: \(losing)")
            let awo = try await ReferralGrantTests.carrierStaff(db)
            let (_, secret) = try await OperatorAccounts(database: db.owner).createToken(email: awo.email, name: "t", expiresInDays: 1)
            let referral = try #require(
                try await client.api(.get, "/api/v1/referrals/incoming", token: secret.value).array.first?["id"] as? String
            )
            #expect(try await client.api(.get, "/api/v1/referrals/\(referral)", token: secret.value).status == .ok)
            #expect(try await browser.get(clientPath, client).text.contains("Widerruf erfassen"))

            _ = try await browser.get(String(link), client)
            let done = try await browser.post(String(link), [], client)
            #expect(done.status == .seeOther)
            let after = try await browser.get(try #require(done.headers[.location]), client).text
            #expect(
                after.contains(
                    "Einwilligung in das Case Management zum \(Day.today.german) widerrufen; die Fallarbeit ist beendet, "
                        + "1 Zugriff einer Beratungsstelle beendet."
                ),
                "\(after)"
            )
            #expect(after.contains("widerrufen zum \(Day.today.german)"))
            #expect(after.contains("Case Management: widerrufen"))
            #expect(
                try await client.api(.get, "/api/v1/referrals/\(referral)", token: secret.value).status == .notFound,
                "the carrier's access ended"
            )
            // A consent no longer in force has no confirmation page.
            #expect(try await browser.get(String(link), client).status == .notFound)
        }
    }

    @Test func choicesWithConsequencesStartEmptyAndAreRequired() async throws {
        try await TestApp.with { db, people, client in
            var browser = WebBrowser()
            _ = try await browser.signIn(people["wittenCM"].email, client)
            _ = try await browser.get("/aufnahme", client)
            let casePath = try #require(try await browser.post("/aufnahme", CasePageTests.intake, client).headers[.location])
            _ = try await browser.post(
                "\(casePath)/ziele",
                [("area", "work"), ("text", "Anerkennung"), ("agreed_on", "2026-01-10"), ("review_on", "2026-01-20")],
                client
            )
            let page = try await browser.get(casePath, client).text
            #expect(page.contains(#"name="outcome"><option value="">– bitte wählen –</option>"#), "the goal review starts without an outcome")
            if let handOverSelect = page.firstMatch(of: /<select id="owner_id"[^>]*>(<option[^>]*>[^<]*<\/option>)/) {
                #expect(handOverSelect.1 == #"<option value="">– bitte wählen –</option>"#, "the hand-over starts without a colleague")
            }
            let goal = try #require(page.firstMatch(of: /\/ziele\/([0-9a-f-]{36})\/pruefung/)?.1)
            let version = try #require(page.firstMatch(of: /name="version" value="(\d+)"/)?.1)
            let review = try await browser.post("\(casePath)/ziele/\(goal)/pruefung", [("version", "1"), ("outcome", ""), ("note", "")], client)
            #expect(review.status == .unprocessableContent)
            #expect(review.text.contains("Ergebnis") && review.text.contains("Bitte das Ergebnis wählen."))
            _ = try await browser.get(casePath, client)
            let handOver = try await browser.post("\(casePath)/uebergabe", [("version", String(version)), ("owner_id", "")], client)
            #expect(handOver.status == .unprocessableContent)
            #expect(handOver.text.contains("Bitte wählen, wer den Fall übernimmt."))

            // The carrier reports back only with an outcome chosen.
            #expect(try await browser.referToAWO(casePath, client).status == .seeOther)
            let awo = try await ReferralGrantTests.carrierStaff(db)
            var carrier = WebBrowser()
            _ = try await carrier.signIn(awo.email, client)
            let incoming = try await carrier.get("/verweisungen", client).text
            let referral = try #require(incoming.firstMatch(of: /data-referral="([0-9a-f-]{36})"/)?.1)
            _ = try await carrier.post("/verweisungen/\(referral)/antwort", [("kind", "accepted")], client)
            let accepted = try await carrier.get("/verweisungen", client).text
            #expect(accepted.contains(#"name="outcome"><option value="">– bitte wählen –</option>"#))
            let feedback = try await carrier.post("/verweisungen/\(referral)/antwort", [("kind", "feedback"), ("outcome", ""), ("note", "")], client)
            #expect(feedback.status == .unprocessableContent)
            #expect(feedback.text.contains("Ergebnis"))
        }
    }
}
