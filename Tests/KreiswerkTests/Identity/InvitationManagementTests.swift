import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Kreiswerk

/// Pending invitations (issue 20): shown as pending, not "aktiv"; sent again (a new link, the old one void and saying it was
/// replaced) and withdrawn (with a confirmation, saying what happened).
@Suite struct InvitationManagementTests {
    /// Witten's administration invites someone; returns the account's id and the link's path.
    static func invite(_ client: some TestClientProtocol, _ people: TestApp.People, email: String) async throws -> (id: String, path: String) {
        let created = try await client.api(
            .post,
            "/api/v1/users",
            token: people["wittenAdmin"].token,
            json: #"{"email":"\#(email)","display_name":"Neue Kollegin","roles":["case_manager"]}"#
        )
        #expect(created.status == .created, "\(created.text)")
        let url = try #require(created.object["invitation_url"] as? String)
        let id = try #require((created.object["user"] as? [String: Any])?["id"] as? String)
        return (id, String(url.dropFirst("http://kreiswerk.test".count)))
    }

    static func row(_ page: String, _ email: String) -> String {
        guard let start = page.range(of: "data-email=\"\(email)\"") else { return "" }
        let rest = page[start.upperBound...]
        return String(rest[..<(rest.range(of: "</tr>")?.lowerBound ?? rest.endIndex)])
    }

    @Test func aPendingInvitationShowsAsPendingAndIsSentAgainWithTheOldLinkVoid() async throws {
        try await TestApp.with { _, people, client in
            let (id, old) = try await Self.invite(client, people, email: "verloren@witten.test")
            var admin = WebBrowser()
            _ = try await admin.signIn(people["wittenAdmin"].email, client)
            let list = try await admin.get("/benutzer", client)
            let row = Self.row(list.text, "verloren@witten.test")
            #expect(row.contains("Einladung offen seit"), "\(row)")
            #expect(row.contains("gültig bis"))
            #expect(!row.contains(">aktiv<"))
            #expect(Self.row(list.text, people["wittenCM"].email).contains(">aktiv<"), "an account in use is active")

            // Sent again in the browser: a new link on the page, and it says the old one is void.
            let resent = try await admin.post("/benutzer/\(id)/einladung", [("mandant", "witten")], client)
            #expect(resent.status == .created, "\(resent.text)")
            #expect(resent.text.contains("Der bisherige Link gilt nicht mehr"))
            let link = try #require(
                resent.text.range(of: #"/einladung/kwi_[A-Za-z0-9_-]+"#, options: .regularExpression).map { String(resent.text[$0]) }
            )
            #expect(link != old)

            var invited = WebBrowser()
            let replaced = try await invited.get(old, client)
            #expect(replaced.status == .gone)
            #expect(replaced.text.contains("durch einen neueren ersetzt"))
            #expect(try await invited.get(link, client).status == .ok)
            let accepted = try await invited.post(link, [("password", "ein-gutes-passwort"), ("password_repeat", "ein-gutes-passwort")], client)
            #expect(accepted.status == .seeOther)

            // In use now: nothing to send again.
            let again = try await client.api(.post, "/api/v1/users/\(id)/invitation", token: people["wittenAdmin"].token)
            #expect(again.status == .conflict)
            #expect(Self.row(try await admin.get("/benutzer", client).text, "verloren@witten.test").contains(">aktiv<"))
        }
    }

    @Test func anInvitationIsWithdrawnWithAConfirmation() async throws {
        try await TestApp.with { db, people, client in
            let (id, path) = try await Self.invite(client, people, email: "irrtum@witten.test")
            var admin = WebBrowser()
            _ = try await admin.signIn(people["wittenAdmin"].email, client)
            _ = try await admin.get("/benutzer", client)
            let unconfirmed = try await admin.post("/benutzer/\(id)/einladung/zurueckziehen", [("mandant", "witten")], client)
            #expect(unconfirmed.status == .unprocessableContent)
            #expect(unconfirmed.text.contains("ankreuzen"))
            var stillOpen = WebBrowser()
            #expect(try await stillOpen.get(path, client).status == .ok, "not withdrawn without the confirmation")

            let withdrawn = try await admin.post("/benutzer/\(id)/einladung/zurueckziehen", [("mandant", "witten"), ("confirm", "1")], client)
            #expect(withdrawn.status == .ok)
            #expect(withdrawn.text.contains("Einladung für Neue Kollegin (irrtum@witten.test) zurückgezogen"))
            #expect(Self.row(withdrawn.text, "irrtum@witten.test").contains("Einladung zurückgezogen am"))
            var invited = WebBrowser()
            let page = try await invited.get(path, client)
            #expect(page.status == .gone)
            #expect(page.text.contains("zurückgezogen"))
            let audited = try await db.owner.withTransaction {
                try await $0.query("SELECT count(*)::integer FROM audit_log WHERE action = 'user.invitation_withdrawn'", logger: TestDatabase.logger)
                    .collect().first!.decode(Int.self)
            }
            #expect(audited == 1)

            // The API: withdrawn already is a conflict; another tenant's administrator does not find the account.
            let twice = try await client.api(.delete, "/api/v1/users/\(id)/invitation", token: people["wittenAdmin"].token)
            #expect(twice.status == .conflict)
            let stranger = try await client.api(.delete, "/api/v1/users/\(id)/invitation", token: people["hattingenAdmin"].token)
            #expect(stranger.status == .notFound)
            let coordinator = try await client.api(.post, "/api/v1/users/\(id)/invitation", token: people["coordinator"].token)
            #expect(coordinator.status == .forbidden, "the coordinators see the district's accounts but send no invitations")
            // Sent again after all: a new link that works.
            let resent = try await client.api(.post, "/api/v1/users/\(id)/invitation", token: people["wittenAdmin"].token)
            #expect(resent.status == .created)
            let url = try #require(resent.object["invitation_url"] as? String)
            #expect(try await invited.get(String(url.dropFirst("http://kreiswerk.test".count)), client).status == .ok)
        }
    }
}
