import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Kreiswerk

/// Invitation links: set a password once, then they are gone; they also expire.
@Suite struct InvitationTests {
    func invite(_ client: some TestClientProtocol, _ people: TestApp.People, email: String) async throws -> String {
        let created = try await client.api(
            .post,
            "/api/v1/users",
            token: people["wittenAdmin"].token,
            json: #"{"email":"\#(email)","display_name":"Neue Kollegin","roles":["case_manager"]}"#
        )
        #expect(created.status == .created)
        let url = try #require(created.object["invitation_url"] as? String)
        #expect(url.hasPrefix("http://kreiswerk.test/einladung/kwi_"))
        return String(url.dropFirst("http://kreiswerk.test".count))
    }

    @Test func anInvitationSetsThePasswordOnce() async throws {
        try await TestApp.with { _, people, client in
            let path = try await invite(client, people, email: "neu@witten.test")
            // No password yet: signing in fails like any wrong password.
            var browser = WebBrowser()
            #expect(try await browser.signIn("neu@witten.test", client).status == .unauthorized)
            let page = try await browser.get(path, client)
            #expect(page.status == .ok)
            #expect(page.text.contains("neu@witten.test"))
            let mismatch = try await browser.post(path, [("password", "ein-gutes-passwort"), ("password_repeat", "ein-anderes-passwort")], client)
            #expect(mismatch.status == .unprocessableContent)
            #expect(mismatch.text.contains("stimmen nicht überein"))
            let accepted = try await browser.post(path, [("password", "ein-gutes-passwort"), ("password_repeat", "ein-gutes-passwort")], client)
            #expect(accepted.status == .seeOther)
            #expect(accepted.headers[.location] == "/?willkommen", "signed in with the password just set, and welcomed")
            #expect(try await browser.get("/", client).text.contains("id=\"sign-out\""), "the start page of a signed-in person")
            var again = WebBrowser()
            #expect(try await again.signIn("neu@witten.test", password: "ein-gutes-passwort", client).headers[.location] == "/")

            var other = WebBrowser()
            let used = try await other.get(path, client)
            #expect(used.status == .gone)
            #expect(used.text.contains("nicht mehr gültig"))
            _ = try await other.get("/anmelden", client)
            let replay = try await other.post(
                path,
                [("password", "uebernahme-versuch"), ("password_repeat", "uebernahme-versuch")],
                csrf: other.cookies["kw_csrf"],
                client
            )
            #expect(replay.status == .gone)
            #expect(try await other.signIn("neu@witten.test", password: "uebernahme-versuch", client).status == .unauthorized)
            #expect(try await other.get("/einladung/kwi_erfunden", client).status == .notFound)
        }
    }

    @Test func anInvitationExpires() async throws {
        try await TestApp.with({ $0.lifetimes.invitation = .seconds(1) }) { _, people, client in
            let path = try await invite(client, people, email: "spaet@witten.test")
            try await Task.sleep(for: .milliseconds(1200))
            var browser = WebBrowser()
            let page = try await browser.get(path, client)
            #expect(page.status == .gone)
            #expect(page.text.contains("abgelaufen"))
        }
    }
}
