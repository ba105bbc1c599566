import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Kreiswerk

/// The case manager's pages, driven like a browser without JavaScript.
@Suite struct CasePageTests {
    static let intake: [(String, String)] = [
        ("first_name", "Yusuf"), ("last_name", "Demir"), ("date_of_birth", "1988-10-02"), ("gender", "male"), ("place_of_residence", "Witten"),
        ("country_of_origin", "Türkei"), ("arrival_date", "2025-11-15"), ("languages", "Türkisch, Kurdisch"), ("german_level", "A1"),
        ("consent", "1"), ("consent_given_how", "in_writing"), ("consent_given_on", "2026-01-10"), ("channel", "level1"),
        ("reason", "Arbeitssuche"),
    ]

    @Test func anIntakeOpensACaseThatIsWorkedOnItsPage() async throws {
        try await TestApp.with { _, people, client in
            var browser = WebBrowser()
            _ = try await browser.signIn(people["wittenCM"].email, client)
            #expect(try await browser.get("/", client).text.contains("href=\"/faelle\""))
            _ = try await browser.get("/aufnahme", client)
            let created = try await browser.post("/aufnahme", Self.intake, client)
            #expect(created.status == .seeOther)
            let casePath = try #require(created.headers[.location])
            #expect(casePath.hasPrefix("/faelle/"))
            var page = try await browser.get(casePath, client)
            #expect(page.text.contains("Fall WIT-"))
            #expect(page.text.contains("Erstberatung (Intake)"))

            // The same person again is caught as a duplicate, with what was typed kept.
            _ = try await browser.get("/aufnahme", client)
            let again = try await browser.post("/aufnahme", Self.intake, client)
            #expect(again.status == .conflict)
            #expect(again.text.contains("id=\"duplicate\""))
            #expect(again.text.contains("value=\"Yusuf\""))

            _ = try await browser.get(casePath, client)
            let version = try #require(browser.lastPage.firstMatch(of: /name="version" value="(\d+)"/)?.1)
            var step = try await browser.post("\(casePath)/phase", [("version", String(version)), ("phase", "assessment")], client)
            #expect(step.status == .seeOther)
            page = try await browser.get(casePath, client)
            #expect(page.text.contains("Bedarfsklärung (Assessment)"))
            // A stale form: 409 with a message, nothing changed.
            step = try await browser.post("\(casePath)/phase", [("version", String(version)), ("phase", "closure"), ("closure_reason", "x")], client)
            #expect(step.status == .conflict)
            #expect(step.text.contains("inzwischen von jemand anderem geändert"))
            // Missing documentation is named.
            _ = try await browser.get(casePath, client)
            let current = try #require(browser.lastPage.firstMatch(of: /name="version" value="(\d+)"/)?.1)
            step = try await browser.post(
                "\(casePath)/phase",
                [("version", String(current)), ("phase", "goal_agreement"), ("route", "counselling_referral")],
                client
            )
            #expect(step.status == .unprocessableContent)
            #expect(step.text.contains("Aufenthaltsstatus"))

            #expect(try await browser.post("\(casePath)/vermerke", [("text", "Erstgespräch mit Dolmetscher.")], client).status == .seeOther)
            #expect(
                try await browser.post(
                    "\(casePath)/ziele",
                    [("area", "work"), ("text", "Anerkennung des Abschlusses"), ("agreed_on", "2026-01-10"), ("review_on", "2026-01-20")],
                    client
                ).status == .seeOther
            )
            page = try await browser.get(casePath, client)
            #expect(page.text.contains("Erstgespräch mit Dolmetscher."))
            #expect(page.text.contains("Anerkennung des Abschlusses"))
            #expect(page.text.contains("1 Ziel ist zur Prüfung fällig"), "what is due comes first")
            #expect(page.text.contains(##"<a href="#timeline-heading">Verlauf</a>"##), "the timeline is one tap away")

            let mine = try await browser.get("/faelle", client)
            #expect(mine.text.contains("Yusuf Demir"))
            #expect(mine.text.contains("class=\"due\""))
            let search = try await browser.get("/klienten?q=demir", client)
            #expect(search.text.contains("Yusuf Demir"))
        }
    }

    @Test func withoutConsentTheIntakeOnlyRegisters() async throws {
        try await TestApp.with { _, people, client in
            var browser = WebBrowser()
            _ = try await browser.signIn(people["wittenCM"].email, client)
            _ = try await browser.get("/aufnahme", client)
            let fields = Self.intake.filter { $0.0 != "consent" }
            let registered = try await browser.post("/aufnahme", fields, client)
            #expect(registered.status == .seeOther)
            let clientPath = try #require(registered.headers[.location])
            #expect(clientPath.hasPrefix("/klienten/"))
            let page = try await browser.get(clientPath, client)
            #expect(page.text.contains("nur registriert") || page.text.contains("kann noch kein Fall"))
            #expect(!page.text.contains("id=\"open-case\""))
            let invalid = try await browser.post("/aufnahme", [("first_name", ""), ("last_name", "X"), ("date_of_birth", "2.2.2000")], client)
            #expect(invalid.status == .unprocessableContent)
            #expect(invalid.text.contains("id=\"first_name-error\""))
            #expect(invalid.text.contains("id=\"date_of_birth-error\""))
        }
    }

    @Test func peopleWithoutCaseWorkDoNotSeeCases() async throws {
        try await TestApp.with { _, people, client in
            var browser = WebBrowser()
            _ = try await browser.signIn(people["wittenAdmin"].email, client)
            #expect(try await browser.get("/faelle", client).status == .forbidden)
            #expect(!(try await browser.get("/", client).text.contains("href=\"/faelle\"")))
        }
    }
}
