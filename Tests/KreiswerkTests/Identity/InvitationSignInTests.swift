import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Kreiswerk

/// Setting the password from an invitation signs the person in (issue 17), and the second-factor rules hold for that session
/// as for any other: in a tenant that requires a second factor, the new colleague is sent to set one up first.
@Suite struct InvitationSignInTests {
    @Test func anInvitationInATenantThatRequiresASecondFactorLeadsToSettingItUp() async throws {
        try await TestApp.with { _, people, client in
            let created = try await client.api(
                .post,
                "/api/v1/users",
                token: people["wittenAdmin"].token,
                json: #"{"email":"zweiter@witten.test","display_name":"Zora Zweifaktor","roles":["case_manager"]}"#
            )
            #expect(created.status == .created, "\(created.text)")
            let url = try #require(created.object["invitation_url"] as? String)
            let path = String(url.dropFirst("http://kreiswerk.test".count))
            let set = try await client.api(
                .put,
                "/api/v1/tenants/witten/security",
                token: people["platform"].token,
                json: #"{"second_factor_required":true}"#
            )
            #expect(set.status == .ok)

            var browser = WebBrowser()
            _ = try await browser.get(path, client)
            let accepted = try await browser.post(path, [("password", "ein-gutes-passwort"), ("password_repeat", "ein-gutes-passwort")], client)
            #expect(accepted.status == .seeOther)
            #expect(accepted.headers[.location] == "/?willkommen", "signed in with the password just set, not sent to the sign-in form")
            // Signed in, but the tenant's rule holds: only the own account until a second factor is set up.
            #expect(try await browser.get("/", client).headers[.location] == "/konto?zweiter-faktor=erforderlich")
            let account = try await browser.get("/konto", client)
            #expect(account.status == .ok && account.text.contains("zweiter@witten.test"))
            #expect(try await browser.get("/faelle", client).status != .ok)
        }
    }
}
