import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Kreiswerk

/// Changing accounts: concurrent edits conflict, roles are granted only where they make sense.
@Suite struct UserAdministrationTests {
    @Test func aStaleOrMissingVersionIsRefusedAndNothingIsOverwritten() async throws {
        try await TestApp.with { _, people, client in
            let admin = people["wittenAdmin"].token
            let uri = "/api/v1/users/\(people["wittenCM"].id)"
            let read = try await client.api(.get, uri, token: admin)
            let etag = try #require(read.headers[.eTag])
            let version = try #require(read.object["version"] as? Int)
            let missing = try await client.api(.patch, uri, token: admin, json: #"{"roles":["team_lead"]}"#)
            #expect(missing.status.code == 428)
            let first = try await client.api(.patch, uri, token: admin, json: #"{"roles":["case_manager","team_lead"]}"#, headers: [.ifMatch: etag])
            #expect(first.status == .ok)
            #expect(first.object["roles"] as? [String] == ["team_lead", "case_manager"])
            let second = try await client.api(.patch, uri, token: admin, json: #"{"active":false}"#, headers: [.ifMatch: etag])
            #expect(second.status == .preconditionFailed)
            let now = try await client.api(.get, uri, token: admin).object
            #expect(now["active"] as? Bool == true)
            #expect(now["version"] as? Int == version + 1)
        }
    }

    @Test func rolesAreGrantedOnlyWhereTheyBelong() async throws {
        try await TestApp.with { _, people, client in
            let admin = people["wittenAdmin"].token
            for roles in [#"["platform_admin"]"#, #"["district_coordinator"]"#, #"[]"#, #"["chef"]"#] {
                let response = try await client.api(
                    .post,
                    "/api/v1/users",
                    token: admin,
                    json: #"{"email":"x@witten.test","display_name":"X","roles":\#(roles)}"#
                )
                #expect(response.status == .unprocessableContent, "roles \(roles)")
                #expect((response.object["errors"] as? [String: String])?["roles"] != nil)
            }
            let invalid = try await client.api(
                .post,
                "/api/v1/users",
                token: admin,
                json: #"{"email":"kein-at","display_name":"","roles":["case_manager"]}"#
            )
            #expect(invalid.status == .unprocessableContent)
            #expect(Set((invalid.object["errors"] as? [String: String])?.keys.map { $0 } ?? []) == ["email", "display_name"])
            let taken = try await client.api(
                .post,
                "/api/v1/users",
                token: admin,
                json: #"{"email":"\#(people["hattingenCM"].email)","display_name":"X","roles":["case_manager"]}"#
            )
            #expect(taken.status == .conflict)
            // A tenant admin cannot lock themselves out.
            let me = "/api/v1/users/\(people["wittenAdmin"].id)"
            let selfLock = try await client.api(.patch, me, token: admin, json: #"{"active":false}"#, headers: [.ifMatch: "\"1\""])
            #expect(selfLock.status == .unprocessableContent)
            // A tenant admin cannot create accounts elsewhere.
            let elsewhere = try await client.api(
                .post,
                "/api/v1/users",
                token: admin,
                json: #"{"email":"y@hattingen.test","display_name":"Y","roles":["case_manager"],"tenant":"hattingen"}"#
            )
            #expect(elsewhere.status == .notFound)
        }
    }

    @Test func theUsersPageLetsAnAdminChangeRoles() async throws {
        try await TestApp.with { _, people, client in
            var browser = WebBrowser()
            _ = try await browser.signIn(people["wittenAdmin"].email, client)
            let page = try await browser.get("/benutzer", client)
            #expect(page.status == .ok)
            #expect(page.text.contains(people["wittenCM"].email))
            #expect(!page.text.contains(people["hattingenCM"].email))
            let id = people["wittenCM"].id
            func version(_ id: UUID) async throws -> String {
                "\(try await client.api(.get, "/api/v1/users/\(id)", token: people["wittenAdmin"].token).object["version"] as? Int ?? 0)"
            }
            let read = try await version(id)
            let changed = try await browser.post(
                "/benutzer/\(id)",
                [("version", read), ("roles", "case_manager"), ("roles", "team_lead"), ("active", "1")],
                client
            )
            #expect(changed.status == .seeOther)
            let stale = try await browser.post("/benutzer/\(id)", [("version", read), ("roles", "case_manager")], client)
            #expect(stale.status == .conflict)
            #expect(stale.text.contains("inzwischen geändert"))
            let json = try await client.api(.get, "/api/v1/users/\(id)", token: people["wittenAdmin"].token).object
            #expect(json["roles"] as? [String] == ["team_lead", "case_manager"])
            // The coordinator sees the district's accounts and grants only the coordination roles: not a town's case roles.
            var coordinator = WebBrowser()
            _ = try await coordinator.signIn(people["coordinator"].email, client)
            let list = try await coordinator.get("/benutzer", client)
            #expect(list.text.contains(people["wittenCM"].email))
            #expect(!list.text.contains("value=\"case_manager\""))
            let lead = people["wittenLead"].id
            let refused = try await coordinator.post("/benutzer/\(lead)", [("version", try await version(lead)), ("roles", "case_manager")], client)
            #expect(refused.status == .forbidden)
            #expect(refused.text.contains("Case Management"))
        }
    }

    @Test func platformAdministratorsOpenAnyAccountByItsAddress() async throws {
        try await TestApp.with { _, people, client in
            let created = try await client.api(
                .post,
                "/api/v1/users",
                token: people["platform"].token,
                json: #"{"email":"neu@witten.test","display_name":"Neu","roles":["team_lead"],"tenant":"witten"}"#
            )
            #expect(created.status == .created)
            let location = try #require(created.headers[.location])
            let opened = try await client.api(.get, location, token: people["platform"].token)
            #expect(opened.status == .ok)
            #expect(opened.object["tenant"] as? String == "witten")
            #expect(try await client.api(.get, location, token: people["wittenAdmin"].token).status == .ok)
            #expect(try await client.api(.get, location, token: people["hattingenAdmin"].token).status == .notFound)
        }
    }

    @Test func aNULCharacterIsABadRequestAndChangesNothing() async throws {
        try await TestApp.with { _, people, client in
            let token = people["wittenAdmin"].token
            let body = try await client.api(
                .post,
                "/api/v1/tokens",
                token: token,
                json: #"{"name":"mit\u0000null","password":"\#(TestApp.password)"}"#
            )
            #expect(body.status == .badRequest)
            #expect((body.object["detail"] as? String)?.contains("NUL") == true)
            #expect(try await client.api(.get, "/api/v1/users?tenant=witten%00", token: token).status == .badRequest)
            let login = try await client.api(.post, "/api/v1/auth/login", token: nil, json: #"{"email":"a\u0000@b.de","password":"x"}"#)
            #expect(login.status == .badRequest)
            let tokens = try await client.api(.get, "/api/v1/tokens", token: token).array
            #expect(tokens.count == 1)
        }
    }
}
