import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Kreiswerk

/// A platform administrator onboards a carrier; the result is the state `tenants apply` would make.
@Suite struct OnboardingTests {
    static let diakonie = #"""
        {"slug":"diakonie-mark-ruhr","name":"Diakonie Mark-Ruhr","kind":"carrier","district":"en-kreis",
         "admin":{"email":"admin@diakonie-mark-ruhr.test","display_name":"Dora Diakonie"}}
        """#

    @Test func theNewTenantAdminAcceptsTheInvitationAndSeesOnlyTheirTenant() async throws {
        try await TestApp.with { _, people, client in
            let created = try await client.api(.post, "/api/v1/tenants", token: people["platform"].token, json: Self.diakonie)
            #expect(created.status == .created)
            let tenant = try #require(created.object["tenant"] as? [String: Any])
            #expect(tenant["slug"] as? String == "diakonie-mark-ruhr")
            #expect(tenant["managed_by"] as? String == "api")
            #expect((created.object["admin"] as? [String: Any])?["roles"] as? [String] == ["tenant_admin"])
            let url = try #require(created.object["invitation_url"] as? String)
            let path = String(url.dropFirst("http://kreiswerk.test".count))

            var browser = WebBrowser()
            _ = try await browser.get(path, client)
            #expect(
                try await browser.post(path, [("password", "diakonie-passwort"), ("password_repeat", "diakonie-passwort")], client).status
                    == .seeOther
            )
            #expect(try await browser.signIn("admin@diakonie-mark-ruhr.test", password: "diakonie-passwort", client).headers[.location] == "/")
            let start = try await browser.get("/", client)
            #expect(start.text.contains("data-slug=\"diakonie-mark-ruhr\""))
            #expect(start.text.components(separatedBy: "<tr data-slug=").count == 2, "exactly one tenant row")

            let all = try await client.api(.get, "/api/v1/tenants", token: people["platform"].token).array.compactMap { $0["slug"] as? String }
            #expect(all.contains("diakonie-mark-ruhr"))
            #expect(all.count == 22)
        }
    }

    @Test func onboardingAndTheTenantFilesLeadToTheSameState() async throws {
        try await TestApp.with { db, people, client in
            #expect(try await client.api(.post, "/api/v1/tenants", token: people["platform"].token, json: Self.diakonie).status == .created)
            let catalogue = TenantCatalogue(database: db.owner)
            // Not in the files yet: not reported as missing, nothing to do.
            let before = try await catalogue.plan(try TenantFiles.load(from: TestDatabase.tenantsDirectory), deactivateMissing: true)
            #expect(before.isEmpty)
            try await withTemporaryDirectory { folder in
                try copyContents(of: TestDatabase.tenantsDirectory, to: folder)
                try """
                slug: diakonie-mark-ruhr
                name: Diakonie Mark-Ruhr
                kind: carrier
                district: en-kreis
                """.write(to: folder.appendingPathComponent("en-kreis/diakonie-mark-ruhr.yaml"), atomically: true, encoding: .utf8)
                let files = try TenantFiles.load(from: folder)
                let plan = try await catalogue.plan(files)
                #expect(plan.creates.isEmpty)
                #expect(plan.updates.map(\.slug) == ["diakonie-mark-ruhr"])
                #expect(plan.updates.first?.changes.count == 1, "only who keeps it changes: \(plan.updates.first?.changes ?? [])")
                #expect(plan.updates.first?.changes.first?.hasPrefix("managed_by: api → files") == true)
                _ = try await catalogue.apply(files)
                #expect(try await catalogue.plan(files).isEmpty)
            }
        }
    }

    @Test func badOnboardingRequestsSayWhatToFix() async throws {
        try await TestApp.with { _, people, client in
            let token = people["platform"].token
            let invalid = try await client.api(
                .post,
                "/api/v1/tenants",
                token: token,
                json: #"{"slug":"Nicht Gut","name":"","kind":"verein","admin":{"email":"x","display_name":""}}"#
            )
            #expect(invalid.status == .unprocessableContent)
            let errors = try #require(invalid.object["errors"] as? [String: String])
            #expect(Set(errors.keys) == ["slug", "name", "kind", "email", "display_name"])
            let noDistrict = try await client.api(
                .post,
                "/api/v1/tenants",
                token: token,
                json: #"{"slug":"traeger-x","name":"X","kind":"carrier","admin":{"email":"a@x.test","display_name":"A"}}"#
            )
            #expect((noDistrict.object["errors"] as? [String: String])?["district"] != nil)
            let unknownDistrict = try await client.api(
                .post,
                "/api/v1/tenants",
                token: token,
                json: #"{"slug":"traeger-x","name":"X","kind":"carrier","district":"nirgendwo","admin":{"email":"a@x.test","display_name":"A"}}"#
            )
            #expect(unknownDistrict.status == .unprocessableContent)
            let taken = try await client.api(
                .post,
                "/api/v1/tenants",
                token: token,
                json: #"{"slug":"witten","name":"X","kind":"carrier","district":"en-kreis","admin":{"email":"a@x.test","display_name":"A"}}"#
            )
            #expect(taken.status == .conflict)
            // A taken e-mail address leaves no tenant behind.
            let halfway = try await client.api(
                .post,
                "/api/v1/tenants",
                token: token,
                json:
                    #"{"slug":"traeger-y","name":"Y","kind":"carrier","district":"en-kreis","admin":{"email":"\#(people["wittenCM"].email)","display_name":"A"}}"#
            )
            #expect(halfway.status == .conflict)
            let slugs = try await client.api(.get, "/api/v1/tenants", token: token).array.compactMap { $0["slug"] as? String }
            #expect(!slugs.contains("traeger-y"))
        }
    }

    @Test func theOnboardingFormShowsProblemsNextToTheFields() async throws {
        try await TestApp.with { _, people, client in
            var browser = WebBrowser()
            _ = try await browser.signIn(people["platform"].email, client)
            _ = try await browser.get("/", client)
            let page = try await browser.post(
                "/mandanten",
                [("slug", "x y"), ("name", "Träger"), ("kind", "carrier"), ("district", ""), ("admin_email", "a@b.de"), ("admin_name", "A")],
                client
            )
            #expect(page.status == .unprocessableContent)
            #expect(page.text.contains("id=\"form-errors\""))
            #expect(page.text.contains("id=\"slug-error\""))
            #expect(page.text.contains("id=\"district-error\""))
            #expect(page.text.contains("value=\"Träger\""), "what was typed stays")
        }
    }
}
