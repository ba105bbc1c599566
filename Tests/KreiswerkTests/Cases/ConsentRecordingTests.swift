import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import Testing

@testable import Kreiswerk

/// A consent is recorded with how it was given (issue 17, migration 0024): in writing, orally, or with an interpreter and in
/// which language, with its scope and, if limited, its end. The intake and the client page ask for it without a preselection,
/// the client page says it in words beside each consent's state, and a consent recorded before 0024 says "nicht erfasst".
@Suite struct ConsentRecordingTests {
    static let person: [(String, String)] = [
        ("first_name", "Layla"), ("last_name", "Nasser"), ("date_of_birth", "1991-04-07"), ("gender", "female"),
        ("languages", "Arabisch"), ("channel", "level1"), ("reason", "Sprachkurs"),
    ]

    @Test func anIntakeWithoutTheConsentTickedRegistersTheClientOnly() async throws {
        try await TestApp.with { _, people, client in
            var browser = WebBrowser()
            _ = try await browser.signIn(people["wittenCM"].email, client)
            let form = try await browser.get("/aufnahme", client).text
            let how = try #require(form.firstMatch(of: /<select id="consent_given_how"[^>]*>(<option[^>]*>[^<]*<\/option>)/)?.1)
            #expect(how == #"<option value="">– bitte wählen –</option>"#, "how the consent was given is not preselected")
            // A manner chosen without the tick records nothing: the tick is the consent.
            let registered = try await browser.post("/aufnahme", Self.person + [("consent_given_how", "orally")], client)
            #expect(registered.status == .seeOther)
            let clientPath = try #require(registered.headers[.location]?.split(separator: "?").first.map(String.init))
            #expect(clientPath.hasPrefix("/klienten/"), "the client's page, not a case: \(clientPath)")
            let page = try await browser.get(clientPath, client).text
            #expect(page.contains("Keine Einwilligung erfasst.") && page.contains("Noch kein Fall."))
            #expect(!page.contains(#"id="open-case""#))
            let record = try await client.api(
                .get,
                "/api/v1\(clientPath.replacingOccurrences(of: "/klienten", with: "/clients"))",
                token: people["wittenCM"].token
            )
            #expect((record.object["consents"] as? [Any])?.isEmpty == true && (record.object["cases"] as? [Any])?.isEmpty == true)
        }
    }

    @Test func anInterpretedConsentIsShownInWordsAndAMissingLanguageIsRefusedKeepingTheInputs() async throws {
        try await TestApp.with { _, people, client in
            var browser = WebBrowser()
            _ = try await browser.signIn(people["wittenCM"].email, client)
            _ = try await browser.get("/aufnahme", client)
            let ticked = Self.person + [("consent", "1"), ("consent_given_on", "2026-01-12"), ("consent_expires_on", "2030-01-31")]

            // Ticked without saying how: refused, naming the field.
            let silent = try await browser.post("/aufnahme", ticked, client)
            #expect(silent.status == .unprocessableContent)
            #expect(silent.text.contains(#"id="consent_given_how-error""#) && silent.text.contains("wie die Einwilligung gegeben wurde"))

            // With an interpreter but no language: refused with a German message beside the field; every input stays.
            let noLanguage = try await browser.post("/aufnahme", ticked + [("consent_given_how", "with_interpreter")], client)
            #expect(noLanguage.status == .unprocessableContent)
            let text = noLanguage.text
            #expect(text.contains(#"<p id="consent_interpreter_language-error" class="field-error">Bei einer Einwilligung mit Dolmetschung"#))
            #expect(text.contains(##"<a href="#consent_interpreter_language">Sprache der Dolmetschung</a>"##), "the summary links the field")
            #expect(text.contains(#"<option value="with_interpreter" selected>mit Dolmetschung</option>"#))
            #expect(text.firstMatch(of: /<input type="checkbox" id="consent"[^>]*checked/) != nil, "the tick stays")
            #expect(text.contains(#"value="Layla""#) && text.contains(#"value="2030-01-31""#) && text.contains(">Sprachkurs</textarea>"))

            let created = try await browser.post(
                "/aufnahme",
                ticked + [("consent_given_how", "with_interpreter"), ("consent_interpreter_language", " Arabisch ")],
                client
            )
            #expect(created.status == .seeOther)
            let casePath = try #require(created.headers[.location])
            #expect(casePath.hasPrefix("/faelle/"), "with consent the intake opens a case")
            let casePage = try await browser.get(casePath, client).text
            let clientPath = String(try #require(casePage.firstMatch(of: /href="(\/klienten\/[0-9a-f-]{36})"/)?.1))
            let page = try await browser.get(clientPath, client).text
            #expect(
                page.contains(
                    "<strong>Case Management: in Kraft, befristet</strong> – gegeben am 12.01.2026, mit Dolmetschung (Arabisch), gültig bis 31.01.2030"
                ),
                "how it was given, in words: \(page)"
            )

            // The API says it too.
            let id = clientPath.split(separator: "/").last!
            let record = try await client.api(.get, "/api/v1/clients/\(id)", token: people["wittenCM"].token)
            let consent = try #require((record.object["consents"] as? [[String: Any]])?.first)
            #expect(consent["given_how"] as? String == "with_interpreter" && consent["interpreter_language"] as? String == "Arabisch")
            #expect(consent["expires_on"] as? String == "2030-01-31")
        }
    }

    @Test func theClientPagesConsentFormAsksHowScopeAndEndWithoutPreselection() async throws {
        try await TestApp.with { _, people, client in
            let cm = people["wittenCM"].token
            let id = try await CaseWorkflowTests.register(client, cm, consent: false)
            var browser = WebBrowser()
            _ = try await browser.signIn(people["wittenCM"].email, client)
            let path = "/klienten/\(id)"
            let page = try await browser.get(path, client).text
            for select in ["scope", "given_how"] {
                let first = try #require(page.firstMatch(of: try Regex(#"<select id="\#(select)"[^>]*>(<option[^>]*>[^<]*</option>)"#)))
                #expect(first.output[1].substring == #"<option value="">– bitte wählen –</option>"#, "\(select) starts without a choice")
            }

            // Nothing chosen: refused, each error beside its field; the client's data form keeps the client's data.
            let empty = try await browser.post("\(path)/einwilligungen", [("scope", ""), ("given_how", ""), ("given_on", "2026-02-01")], client)
            #expect(empty.status == .unprocessableContent)
            #expect(empty.text.contains(#"id="scope-error""#) && empty.text.contains(#"id="given_how-error""#))
            #expect(empty.text.contains(#"value="Amira""#), "the client's data are still shown")

            _ = try await browser.get(path, client)
            let noLanguage = try await browser.post(
                "\(path)/einwilligungen",
                [
                    ("scope", "handover"), ("recipient", "Jobcenter EN"), ("given_how", "with_interpreter"), ("interpreter_language", ""),
                    ("given_on", "2026-02-01"),
                ],
                client
            )
            #expect(noLanguage.status == .unprocessableContent)
            #expect(noLanguage.text.contains(#"<p id="interpreter_language-error" class="field-error">Bei einer Einwilligung mit Dolmetschung"#))
            #expect(noLanguage.text.contains(#"<option value="handover" selected>"#) && noLanguage.text.contains(#"value="Jobcenter EN""#))
            #expect(noLanguage.text.contains(#"<option value="with_interpreter" selected>"#) && noLanguage.text.contains(#"value="2026-02-01""#))

            _ = try await browser.get(path, client)
            let oral = try await browser.post(
                "\(path)/einwilligungen",
                [("scope", "handover"), ("recipient", "Jobcenter EN"), ("given_how", "orally"), ("given_on", "2026-02-01")],
                client
            )
            #expect(oral.status == .seeOther)
            let after = try await browser.get(try #require(oral.headers[.location]), client).text
            #expect(after.contains("Einwilligung in die Übergabe an Jobcenter EN erfasst: gegeben am 01.02.2026, mündlich, unbefristet."), "\(after)")
            #expect(after.contains("<strong>Übergabe an Jobcenter EN: in Kraft, unbefristet</strong> – gegeben am 01.02.2026, mündlich"))

            // The printable form offers the same ways as the page.
            let printable = try await browser.get("\(path)/einwilligungsformular", client).text
            for manner in Consent.Manner.allCases { #expect(printable.contains("☐ \(manner.label)")) }
            #expect(printable.contains("Sprache der Dolmetschung: ______"))
        }
    }

    @Test func aConsentFromBeforeItWasAskedSaysNotRecordedAndTheAPITakesAndChecksHow() async throws {
        try await TestApp.with { db, people, client in
            let cm = people["wittenCM"].token
            // Registered through the API without saying how: recorded as not said, never invented.
            let id = try await CaseWorkflowTests.register(client, cm)
            let record = try await client.api(.get, "/api/v1/clients/\(id)", token: cm)
            let old = try #require((record.object["consents"] as? [[String: Any]])?.first)
            #expect(old["given_how"] == nil && old["interpreter_language"] == nil)
            var browser = WebBrowser()
            _ = try await browser.signIn(people["wittenCM"].email, client)
            let page = try await browser.get("/klienten/\(id)", client).text
            #expect(page.contains("gegeben am 05.01.2026, wie gegeben: nicht erfasst"))

            let consents = "/api/v1/clients/\(id)/consents"
            let missing = try await client.api(
                .post,
                consents,
                token: cm,
                json: #"{"scope":"case_management","given_on":"2026-02-01","given_how":"with_interpreter"}"#
            )
            #expect(missing.status == .unprocessableContent)
            #expect(((missing.object["errors"] as? [String: String])?["interpreter_language"] ?? "").contains("Sprache"), "\(missing.text)")
            let given = try await client.api(
                .post,
                consents,
                token: cm,
                json: #"{"scope":"case_management","given_on":"2026-02-01","given_how":"with_interpreter","interpreter_language":"Dari"}"#
            )
            #expect(given.status == .created, "\(given.text)")
            #expect(given.object["given_how"] as? String == "with_interpreter" && given.object["interpreter_language"] as? String == "Dari")
            let written = try await client.api(
                .post,
                consents,
                token: cm,
                json: #"{"scope":"case_management","given_on":"2026-02-01","given_how":"in_writing","interpreter_language":"Dari"}"#
            )
            #expect(written.status == .created)
            #expect(
                written.object["given_how"] as? String == "in_writing" && written.object["interpreter_language"] == nil,
                "a language only with an interpreter"
            )

            // The database holds the rule too: no language without an interpreter, no interpreter without a language.
            for (how, language) in [("orally", "'Dari'"), ("with_interpreter", "NULL")] {
                await #expect(throws: (any Error).self) {
                    try await db.owner.withTransaction { connection in
                        try await connection.query(
                            PostgresQuery(
                                unsafeSQL: """
                                    UPDATE consents SET given_how = '\(how)', interpreter_language = \(language) WHERE client_id = '\(id)'
                                    """
                            ),
                            logger: TestDatabase.logger
                        )
                    }
                }
            }
        }
    }
}
