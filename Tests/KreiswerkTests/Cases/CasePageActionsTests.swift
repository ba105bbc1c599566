import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Kreiswerk

/// The case page on a phone (issue 17): what the case is and what is due first, each action its own form behind a
/// disclosure that is closed until it is needed (no JavaScript), the timeline one tap away. An answer with an error opens
/// that form again with what was chosen and typed, each message next to its field, the summary linked to the fields.
@Suite struct CasePageActionsTests {
    static let actions = ["phase-action", "handover-action", "goal-action", "referral-action", "note-action", "conference-action"]

    /// A case of wittenCM's with a goal, and a browser signed in as her on its page.
    static func casePage(_ people: TestApp.People, _ client: some TestClientProtocol) async throws -> (WebBrowser, String, String) {
        var browser = WebBrowser()
        _ = try await browser.signIn(people["wittenCM"].email, client)
        _ = try await browser.get("/aufnahme", client)
        let casePath = try #require(try await browser.post("/aufnahme", CasePageTests.intake, client).headers[.location])
        _ = try await browser.get(casePath, client)
        let added = try await browser.post(
            "\(casePath)/ziele",
            [("area", "work"), ("text", "Anerkennung beantragen"), ("agreed_on", Day.today.iso), ("review_on", StandInTests.day(30).iso)],
            client
        )
        #expect(added.status == .seeOther, "\(added.text)")
        let page = try await browser.get(casePath, client).text
        let goal = String(try #require(page.firstMatch(of: /ziele\/([0-9a-f-]{36})\/pruefung/)?.1))
        return (browser, casePath, goal)
    }

    /// The opening tag of the element with `id`.
    static func tag(_ id: String, in page: String) -> String? {
        guard let start = page.range(of: #"id="\#(id)""#)?.lowerBound else { return nil }
        let open = page[..<start].lastIndex(of: "<")!
        return String(page[open...].prefix { $0 != ">" })
    }

    @Test func eachActionIsAClosedDisclosureAfterTheFactsAndNothingIsPreselected() async throws {
        try await TestApp.with { db, people, client in
            _ = try await StandInTests.colleague(db, client)  // someone to hand over to
            let (browser, casePath, goal) = try await Self.casePage(people, client)
            var session = browser
            let page = try await session.get(casePath, client).text
            for action in Self.actions {
                let tag = try #require(Self.tag(action, in: page), "\(action) is on the page")
                #expect(tag.hasPrefix("<details") && !tag.contains(" open"), "\(action) is closed: \(tag)")
            }
            // What the case is comes first, then the actions, then the goals and the timeline (one tap away).
            let facts = try #require(page.range(of: #"<dl class="facts">"#)).lowerBound
            let actions = try #require(page.range(of: #"id="actions-heading""#)).lowerBound
            let goals = try #require(page.range(of: #"id="goals-heading""#)).lowerBound
            #expect(facts < actions && actions < goals)
            #expect(page.contains(##"<a href="#timeline-heading">Verlauf</a>"##))
            // Each goal's review is a closed disclosure too; no choice with consequences is preselected.
            #expect(Self.tag("review-\(goal)", in: page) != nil)
            #expect(page.contains(#"<select id="next-phase" name="phase"><option value="">– bitte wählen –</option>"#))
            #expect(page.contains(#"<select id="owner_id" name="owner_id"><option value="">– bitte wählen –</option>"#))
            #expect(page.contains(#"<select id="outcome-\#(goal)" name="outcome"><option value="">– bitte wählen –</option>"#))
            #expect(!page.contains(" selected>"), "nothing is preselected on a fresh case page")
        }
    }

    @Test func anErrorOpensItsFormWithWhatWasTypedAndTheMessageNextToTheField() async throws {
        try await TestApp.with { _, people, client in
            var (browser, casePath, goal) = try await Self.casePage(people, client)

            // A goal without a review date: the goal form opens, keeps area and text, the message sits at the date.
            let goalError = try await browser.post("\(casePath)/ziele", [("area", "housing"), ("text", "Wohnung finden"), ("review_on", "")], client)
            #expect(goalError.status == .unprocessableContent)
            var page = goalError.text
            #expect(Self.tag("goal-action", in: page)?.contains(" open") == true)
            #expect(Self.tag("note-action", in: page)?.contains(" open") == false, "only the form the error is about opens")
            #expect(page.contains(#"<option value="housing" selected>"#) && page.contains(">Wohnung finden</textarea>"))
            #expect(page.contains(#"id="review_on-error""#) && page.contains(##"<a href="#review_on">Prüftermin</a>"##))

            // An empty note: its own form opens with the message at the note, linked from the summary.
            _ = try await browser.get(casePath, client)
            page = try await browser.post("\(casePath)/vermerke", [("text", "")], client).text
            #expect(Self.tag("note-action", in: page)?.contains(" open") == true)
            #expect(Self.tag("goal-action", in: page)?.contains(" open") == false)
            #expect(page.contains(#"id="note-text-error""#) && page.contains(##"<a href="#note-text">"##))
            #expect(!page.contains(#"id="goal-text-error""#), "the note's message is not put at the goal's text")

            // No phase chosen: the phase form opens with the typed closure reason, the summary leads to the select.
            _ = try await browser.get(casePath, client)
            page = try await browser.post("\(casePath)/phase", [("phase", ""), ("closure_reason", "Umzug"), ("version", "1")], client).text
            #expect(Self.tag("phase-action", in: page)?.contains(" open") == true)
            #expect(page.contains(#"id="phase-error""#) && page.contains(##"<a href="#next-phase">"##) && page.contains(#"value="Umzug""#))

            // A review without an outcome: that goal's review opens with its message; the note typed is kept.
            _ = try await browser.get(casePath, client)
            page = try await browser.post(
                "\(casePath)/ziele/\(goal)/pruefung",
                [("outcome", ""), ("note", "Unterlagen fehlen"), ("version", "1")],
                client
            )
            .text
            #expect(Self.tag("outcome-\(goal)", in: page)?.contains(#"aria-invalid="true""#) == true)
            #expect(page.contains(#"id="outcome-\#(goal)-error""#) && page.contains(##"<a href="#outcome-\##(goal)">"##))
            #expect(page.contains(#"value="Unterlagen fehlen""#))
            #expect(page.contains("<details open><summary>Prüfung eintragen"))

            // A conference without title and consent: its form opens, keeps the summary, each message at its field.
            _ = try await browser.get(casePath, client)
            let conference = try await browser.post(
                "\(casePath)/konferenzen",
                [
                    ("kind", "municipal"), ("title", ""), ("scheduled_at", "2030-05-02T10:00"), ("participants", "awo-en"),
                    ("summary", "Kurz gefasst"),
                ],
                client
            )
            #expect(conference.status == .unprocessableContent)
            page = conference.text
            #expect(Self.tag("conference-action", in: page)?.contains(" open") == true)
            #expect(page.contains(#"id="conference-title-error""#) && page.contains(##"<a href="#conference-title">"##))
            #expect(page.contains(#"id="conference-consent-error""#) && page.contains(##"<a href="#conference-consent">"##))
            #expect(page.contains(">Kurz gefasst</textarea>") && page.contains(#"value="2030-05-02T10:00""#))
            #expect(page.contains(#"id="invite-awo-en" name="participants" value="awo-en" checked"#))
            // The summary follows the form: the title comes before the consent.
            let title = try #require(page.range(of: ##"href="#conference-title""##)).lowerBound
            let consent = try #require(page.range(of: ##"href="#conference-consent""##)).lowerBound
            #expect(title < consent)
        }
    }
}
