import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Kreiswerk

/// After accepting an invitation the new colleague is welcomed on the start page, signed in, with the way to their account
/// (issue 17); "Mein Konto" is in the navigation of every signed-in page.
@Suite struct InvitationWelcomeTests {
    /// Witten's administrator invites a new case manager: the path of the invitation's link.
    static func invitationPath(_ people: TestApp.People, _ client: some TestClientProtocol) async throws -> String {
        let body = #"{"email":"willkommen@witten.test","display_name":"Wilma Willkommen","roles":["case_manager"]}"#
        let created = try await client.api(.post, "/api/v1/users", token: people["wittenAdmin"].token, json: body)
        let url = try #require(created.object["invitation_url"] as? String, "\(created.text)")
        return String(url.dropFirst("http://kreiswerk.test".count))
    }

    @Test func settingThePasswordFromAnInvitationWelcomesThePersonOnTheStartPage() async throws {
        try await TestApp.with { _, people, client in
            let path = try await Self.invitationPath(people, client)
            var browser = WebBrowser()
            _ = try await browser.get(path, client)
            let accepted = try await browser.post(path, [("password", "ein-gutes-passwort"), ("password_repeat", "ein-gutes-passwort")], client)
            #expect(accepted.status == .seeOther)
            let start = try await browser.get(try #require(accepted.headers[.location]), client)
            #expect(start.status == .ok)
            #expect(start.text.contains("Willkommen bei Kreiswerk, Wilma Willkommen! Ihr Passwort ist gespeichert und Sie sind angemeldet."))
            #expect(start.text.contains(#"role="status" id="welcome""#), "announced to screen readers")
            #expect(start.text.contains(#"<a href="/konto">Mein Konto</a>"#), "Mein Konto is in the navigation")

            // Only after the invitation: the start page otherwise greets no one.
            let again = try await browser.get("/", client).text
            #expect(!again.contains("id=\"welcome\""))
        }
    }
}
