import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Kreiswerk

/// Onboarding with what the tenant files hold (issue 20): kind, organisational unit, case_management_by, has_own flags and
/// funded staff shares; a similar name in the district is pointed out and needs a confirmation; coordinators onboard
/// carriers and authorities of their own district; and `tenants export` writes a file that `tenants plan` accepts.
@Suite struct OnboardingWholeTests {
    static let diakonie = #"""
        {"slug":"diakonie-mark-ruhr","name":"Diakonie Mark-Ruhr","kind":"carrier","district":"en-kreis",
         "organisational_unit":"Migrationsdienst","contact_email":"kim@diakonie-mark-ruhr.test","contact_phone":"+49 2302 91 0",
         "has_own":{"integration_council":false},
         "staff_shares":[{"programme":"case_management","year":2026,"fte":"1.5"},{"programme":"case_management","year":2027,"fte":0.75}],
         "admin":{"email":"admin@diakonie-mark-ruhr.test","display_name":"Dora Diakonie"}}
        """#

    static let teststadt = #"""
        {"slug":"teststadt","name":"Stadt Teststadt","kind":"municipality","district":"en-kreis","case_management_by":"vhs-en-sued",
         "has_own":{"foreigners_authority":true,"youth_office":true,"integration_council":true},
         "staff_shares":[{"programme":"coordination","year":2026,"fte":"0.5"},{"programme":"case_management","year":2026,"fte":"2"}],
         "admin":{"email":"admin@teststadt.test","display_name":"Theo Test"}}
        """#

    @Test func aSimilarNameInTheDistrictIsPointedOutAndNeedsAConfirmation() async throws {
        try await TestApp.with { _, people, client in
            let token = people["platform"].token
            let first = try await client.api(.post, "/api/v1/tenants", token: token, json: Self.diakonie)
            #expect(first.status == .created, "\(first.text)")
            for name in ["Diakonie Mark Ruhr e.V.", "DIAKONIE mark-ruhr", "Diakonie Mark-Ruhr gGmbH"] {
                let twin = try await client.api(
                    .post,
                    "/api/v1/tenants",
                    token: token,
                    json:
                        #"{"slug":"diakonie-2","name":"\#(name)","kind":"carrier","district":"en-kreis","admin":{"email":"b@d2.test","display_name":"B"}}"#
                )
                #expect(twin.status == .conflict, "\(name): \(twin.text)")
                let message = (twin.object["errors"] as? [String: String])?["confirm_similar_name"] ?? ""
                #expect(message.contains("„Diakonie Mark-Ruhr“"), "\(name): \(twin.text)")
            }
            // Another district's or an unlike name is not pointed out; a confirmed one is onboarded.
            let unlike = try await client.api(
                .post,
                "/api/v1/tenants",
                token: token,
                json:
                    #"{"slug":"malteser-en","name":"Malteser Hilfsdienst","kind":"carrier","district":"en-kreis","admin":{"email":"m@m.test","display_name":"M"}}"#
            )
            #expect(unlike.status == .created, "\(unlike.text)")
            let confirmed = try await client.api(
                .post,
                "/api/v1/tenants",
                token: token,
                json:
                    #"{"slug":"diakonie-2","name":"Diakonie Mark Ruhr e.V.","kind":"carrier","district":"en-kreis","confirm_similar_name":true,"admin":{"email":"b@d2.test","display_name":"B"}}"#
            )
            #expect(confirmed.status == .created, "\(confirmed.text)")

            // In the browser: the form names the similar tenant and offers the confirmation.
            var browser = WebBrowser()
            _ = try await browser.signIn(people["platform"].email, client)
            _ = try await browser.get("/", client)
            let fields = [
                ("name", "Diakonie  Mark-Ruhr"), ("slug", "diakonie-3"), ("kind", "carrier"), ("district", "en-kreis"),
                ("admin_email", "c@d3.test"), ("admin_name", "C"),
            ]
            let page = try await browser.post("/mandanten", fields, client)
            #expect(page.status == .conflict)
            #expect(page.text.contains("name=\"confirm_similar_name\""))
            #expect(page.text.contains("Diakonie Mark-Ruhr"))
            let saved = try await browser.post("/mandanten", fields + [("confirm_similar_name", "1")], client)
            #expect(saved.status == .created, "\(saved.text)")
        }
    }

    @Test func theTenantPageShowsWhatTheFileHoldsByName() async throws {
        try await TestApp.with { _, people, client in
            #expect(try await client.api(.post, "/api/v1/tenants", token: people["platform"].token, json: Self.teststadt).status == .created)
            var browser = WebBrowser()
            _ = try await browser.signIn(people["platform"].email, client)
            let page = try await browser.get("/mandanten/teststadt", client).text
            #expect(page.contains("<dt>Kreis</dt><dd>Ennepe-Ruhr-Kreis</dd>"))
            #expect(page.contains("<dt>Case Management durch</dt><dd>VHS Ennepe-Ruhr-Süd</dd>"))
            #expect(page.contains("<dt>Eigenes Jugendamt</dt><dd>ja</dd>"))
            #expect(page.contains("Koordinierung (Baustein I)</td><td>2026</td><td>0,5"))
            #expect(!page.contains("<dd>en-kreis</dd>") && !page.contains("<dd>vhs-en-sued</dd>"))
            let start = try await browser.get("/", client).text
            #expect(!start.contains("<td>en-kreis</td>"), "the start page names districts, not slugs")
        }
    }

    @Test func aCoordinatorOnboardsCarriersAndAuthoritiesOfTheirDistrictOnly() async throws {
        try await TestApp.with { _, people, client in
            let token = people["coordinator"].token
            let created = try await client.api(.post, "/api/v1/tenants", token: token, json: Self.diakonie)
            #expect(created.status == .created, "\(created.text)")
            let town = try await client.api(.post, "/api/v1/tenants", token: token, json: Self.teststadt)
            #expect(town.status == .forbidden, "\(town.text)")
            let assistant = try await client.api(
                .post,
                "/api/v1/tenants",
                token: people["assistant"].token,
                json: Self.diakonie.replacingOccurrences(of: "diakonie-mark-ruhr", with: "diakonie-4")
            )
            #expect(assistant.status == .forbidden)
            var browser = WebBrowser()
            _ = try await browser.signIn(people["coordinator"].email, client)
            let start = try await browser.get("/", client).text
            #expect(start.contains("form id=\"onboarding\""))
            #expect(!start.contains("value=\"municipality\""), "a coordinator is offered carriers and authorities only")
            #expect(try await browser.get("/mandanten/diakonie-mark-ruhr", client).status == .ok)
            // The new administrator was invited and holds the tenant's staff shares.
            let shares = try await client.api(.get, "/api/v1/tenants", token: people["platform"].token).array
            #expect(shares.contains { $0["slug"] as? String == "diakonie-mark-ruhr" && $0["managed_by"] as? String == "api" })
        }
    }

    @Test func anOnboardedTenantIsExportedAsAFileThatThePlanAccepts() async throws {
        try await TestApp.with { db, people, client in
            for json in [Self.diakonie, Self.teststadt] {
                let created = try await client.api(.post, "/api/v1/tenants", token: people["platform"].token, json: json)
                #expect(created.status == .created, "\(created.text)")
            }
            let catalogue = TenantCatalogue(database: db.owner)
            let stored = try await catalogue.list(district: "en-kreis")
            let exported = try TenantFileExport.choose(stored, district: "en-kreis", slug: nil)
            #expect(exported.map(\.slug).sorted() == ["diakonie-mark-ruhr", "teststadt"], "without a slug: those onboarded in the platform")
            #expect(try TenantFileExport.choose(stored, district: "en-kreis", slug: "witten").map(\.slug) == ["witten"])
            #expect(throws: TenantNotFound.self) { try TenantFileExport.choose(stored, district: "en-kreis", slug: "nirgendwo") }
            let text = TenantFileExport.yaml(exported.first { $0.slug == "diakonie-mark-ruhr" }!, note: "exported")
            #expect(text.contains("staff_shares:\n  case_management: { 2026: 1.5, 2027: 0.75 }"), "\(text)")
            #expect(text.contains("has_own:\n  integration_council: false"))

            try await withTemporaryDirectory { folder in
                try copyContents(of: TestDatabase.tenantsDirectory, to: folder)
                for tenant in exported {
                    let file = folder.appendingPathComponent(TenantFileExport.path(of: tenant))
                    try TenantFileExport.yaml(tenant).write(to: file, atomically: true, encoding: .utf8)
                }
                let plan = try await catalogue.plan(try TenantsFolder.load(folder).tenants)
                #expect(plan.creates.isEmpty && plan.missing.isEmpty)
                let takeOver = "managed_by: api → files (onboarded through the API; the file takes it over)"
                #expect(
                    plan.updates.sorted { $0.slug < $1.slug } == [
                        .init(slug: "diakonie-mark-ruhr", changes: [takeOver]), .init(slug: "teststadt", changes: [takeOver]),
                    ]
                )
                _ = try await catalogue.apply(try TenantsFolder.load(folder).tenants)
                #expect(try await catalogue.plan(try TenantsFolder.load(folder).tenants).isEmpty, "a second plan: no changes")
            }
        }
    }

    @Test func badOnboardingInputNamesTheField() async throws {
        try await TestApp.with { _, people, client in
            let bad = try await client.api(
                .post,
                "/api/v1/tenants",
                token: people["platform"].token,
                json:
                    #"{"slug":"x-traeger","name":"X","kind":"carrier","district":"en-kreis","case_management_by":"vhs-en-sued","contact_email":"kein","staff_shares":[{"programme":"case_management","year":2026,"fte":"1.555"},{"programme":"tanzen","year":2026,"fte":"1"}],"admin":{"email":"x@x.test","display_name":"X"}}"#
            )
            #expect(bad.status == .unprocessableContent)
            let errors = bad.object["errors"] as? [String: String] ?? [:]
            #expect(Set(errors.keys) == ["case_management_by", "contact_email", "staff_shares[0]", "staff_shares[1]"], "\(bad.text)")
            let stranger = try await client.api(
                .post,
                "/api/v1/tenants",
                token: people["platform"].token,
                json:
                    #"{"slug":"y-stadt","name":"Y","kind":"municipality","district":"en-kreis","case_management_by":"witten","admin":{"email":"y@y.test","display_name":"Y"}}"#
            )
            #expect(stranger.status == .unprocessableContent)
            #expect((stranger.object["errors"] as? [String: String])?["case_management_by"] != nil)
        }
    }
}
