import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Kreiswerk

/// The error summary follows the form and links to its fields on every page (issue 17), not only where a field's id is the
/// error's key: a form may give its fields other ids (`plan-title` for `title`), and a page may hold several forms with the
/// same field names (the conference page's planning, moving and inviting forms). `Pages.render` finds each field as the
/// element the page marks invalid under the error's name.
@Suite struct ErrorSummaryOrderTests {
    /// The links of the rendered error summary, in order.
    static func summaryLinks(_ html: String) -> [String] {
        guard let summary = html.firstMatch(of: /<div id="form-errors"[\s\S]*?<\/div>/)?.0 else { return [] }
        return summary.matches(of: /<a href="#([^"]+)">/).map { String($0.output.1) }
    }

    @Test func fieldsWithOtherIdsAndNamesRepeatedAcrossFormsAreSummarisedInFormOrder() {
        let html = """
            <div id="form-errors"><a href="#agenda">Tagesordnung</a></div>
            <form id="plan"><input id="plan-title" name="title" aria-invalid="true">
            <input id="plan-when" name="scheduled_at" type="datetime-local" aria-invalid="true">
            <textarea id="agenda" name="agenda" aria-invalid="true"></textarea></form>
            <form id="move"><input id="scheduled_at" name="scheduled_at"></form>
            """
        let errors =
            FormErrors.values(
                ["title": "Bitte einen Titel.", "scheduled_at": "Bitte einen Termin.", "agenda": "Zu lang.", "version": "Bitte neu laden."],
                labels: [:]
            )["errorList"] as? [[String: Any]] ?? []
        // Before: agenda, scheduled_at (the other form's field), title and version (nowhere) — alphabetical and linked astray.
        #expect(Pages.locate(errors, in: html).compactMap { $0["field"] as? String } == ["plan-title", "plan-when", "agenda", "version"])
    }

    @Test func theCoordinatorsPlanningFormOnTheConferencePageIsSummarisedInItsOrder() async throws {
        try await TestApp.with { _, people, client in
            let (conference, _) = try await LedConferenceTests.ask(client, people)
            var coordinator = WebBrowser()
            _ = try await coordinator.signIn(people["coordinator"].email, client)
            let page = try await coordinator.get("/konferenzen/\(conference)", client).text
            let version = String(try #require(page.firstMatch(of: /name="version" value="(\d+)"/)?.1))
            let tooMany = (1...31).map { "p\($0)@example.test" }.joined(separator: ", ")
            let refused = try await coordinator.post(
                "/konferenzen/\(conference)/planung",
                [("version", version), ("title", String(repeating: "T", count: 201)), ("scheduled_at", "2030-05-02T10:00"), ("invitees", tooMany)],
                client
            )
            #expect(refused.status == .unprocessableContent, "\(refused.text)")
            // Before: "invitees" (the inviting form's field further down) first, "title" (no such id) last.
            #expect(Self.summaryLinks(refused.text) == ["plan-title", "plan-invitees"], "\(Self.summaryLinks(refused.text))")
            #expect(refused.text.contains(#"<div id="form-errors" class="alert alert-error" role="alert" tabindex="-1">"#), "the summary takes focus")
        }
    }
}
