import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Kreiswerk

/// For every API route, each role gets exactly what the policy allows.
@Suite struct RoleMatrixTests {
    static let everyone = Set(TestApp.People.people.keys)

    /// route → who gets a success; everyone else gets `denied`.
    struct Case {
        var method: HTTPRequest.Method
        var uri: String
        var json: String?
        var allowed: Set<String>
        var success: HTTPResponse.Status
        var denied: HTTPResponse.Status = .forbidden
    }

    static func onboarding(_ who: String) -> String {
        #"{"slug":"traeger-\#(who.lowercased())","name":"Träger \#(who)","kind":"carrier","district":"en-kreis","admin":{"email":"admin-\#(who.lowercased())@traeger.test","display_name":"Admin"}}"#
    }

    /// A platform administrator names the tenant; tenant administrators create in their own.
    static func newUser(_ who: String) -> String {
        let tenant = who == "platform" ? #","tenant":"witten""# : ""
        return #"{"email":"neu-\#(who.lowercased())@staff.test","display_name":"Neu","roles":["case_manager"]\#(tenant)}"#
    }

    @Test func eachRoleGetsExactlyWhatThePolicyAllows() async throws {
        try await TestApp.with { _, people, client in
            let cases: [(String) -> Case] = [
                { _ in Case(method: .get, uri: "/api/v1/me", allowed: Self.everyone, success: .ok) },
                { _ in Case(method: .get, uri: "/api/v1/tenants", allowed: Self.everyone, success: .ok) },
                { _ in Case(method: .get, uri: "/api/v1/tokens", allowed: Self.everyone, success: .ok) },
                { who in
                    Case(method: .post, uri: "/api/v1/tenants", json: Self.onboarding(who), allowed: ["platform", "coordinator"], success: .created)
                },
                { _ in Case(method: .get, uri: "/api/v1/users", allowed: ["platform", "coordinator", "wittenAdmin", "hattingenAdmin"], success: .ok)
                },
                { who in
                    Case(
                        method: .post,
                        uri: "/api/v1/users",
                        json: Self.newUser(who),
                        allowed: ["platform", "wittenAdmin", "hattingenAdmin"],
                        success: .created
                    )
                },
                { _ in Case(method: .get, uri: "/api/v1/audit", allowed: ["platform", "coordinator", "wittenAdmin", "hattingenAdmin"], success: .ok)
                },
                // Witten's security settings: its own admin and the platform; other admins do not see the tenant (404).
                { _ in
                    Case(method: .get, uri: "/api/v1/tenants/witten/security", allowed: ["platform", "wittenAdmin"], success: .ok)
                },
            ]
            for make in cases {
                for who in Self.everyone.sorted() {
                    let test = make(who)
                    let response = try await client.api(test.method, test.uri, token: people[who].token, json: test.json)
                    var expected = test.allowed.contains(who) ? test.success : test.denied
                    if test.uri.hasSuffix("/security"), who == "hattingenAdmin" { expected = .notFound }
                    // A coordinator may create accounts of the district, but a district tenant has no case managers.
                    if test.method == .post, test.uri == "/api/v1/users", who == "coordinator" { expected = .unprocessableContent }
                    #expect(response.status == expected, "\(test.method) \(test.uri) as \(who): \(response.status) \(response.text.prefix(200))")
                }
            }
            // Without a token: 401 everywhere guarded.
            for uri in ["/api/v1/me", "/api/v1/tenants", "/api/v1/users", "/api/v1/audit", "/api/v1/tokens"] {
                let response = try await client.api(.get, uri, token: nil)
                #expect(response.status == .unauthorized, "\(uri) without a token")
                #expect(response.headers[.contentType]?.hasPrefix("application/problem+json") == true)
            }
            let bogus = try await client.api(.get, "/api/v1/me", token: "kwp_not-a-token")
            #expect(bogus.status == .unauthorized)
        }
    }

    @Test func tenantListsFollowTheScope() async throws {
        try await TestApp.with { _, people, client in
            func slugs(_ who: String) async throws -> Set<String> {
                Set(try await client.api(.get, "/api/v1/tenants", token: people[who].token).array.compactMap { $0["slug"] as? String })
            }
            #expect(try await slugs("platform").count == 21)
            #expect(try await slugs("coordinator").count == 21)
            #expect(try await slugs("steering") == (try await slugs("coordinator")))
            #expect(try await slugs("wittenCM") == ["witten"])
            #expect(try await slugs("partner") == ["awo-en"])
            let me = try await client.api(.get, "/api/v1/me", token: people["wittenCM"].token).object
            #expect(me["email"] as? String == people["wittenCM"].email)
            #expect((me["home_tenant"] as? [String: Any])?["slug"] as? String == "witten")
            #expect(me["roles"] as? [String] == ["case_manager"])
            #expect((me["acting_tenants"] as? [[String: Any]])?.map { $0["slug"] as? String } == ["witten"])
        }
    }

    @Test func anotherTenantsAccountsAreNotFoundAndCoordinatorsSeeButDoNotChange() async throws {
        try await TestApp.with { _, people, client in
            let wittenCM = people["wittenCM"].id
            // Hattingen's admin: Witten's account does not exist for them.
            for (method, json) in [(HTTPRequest.Method.get, nil), (.patch, #"{"active":false}"#)] as [(HTTPRequest.Method, String?)] {
                let response = try await client.api(
                    method,
                    "/api/v1/users/\(wittenCM)",
                    token: people["hattingenAdmin"].token,
                    json: json,
                    headers: [.ifMatch: "\"1\""]
                )
                #expect(response.status == .notFound, "\(method) as Hattingen's admin")
            }
            let list = try await client.api(.get, "/api/v1/users?tenant=witten", token: people["hattingenAdmin"].token)
            #expect(list.status == .notFound)
            let own = try await client.api(.get, "/api/v1/users", token: people["hattingenAdmin"].token).array.compactMap { $0["email"] as? String }
            #expect(Set(own) == [people["hattingenAdmin"].email, people["hattingenCM"].email])

            // The district coordinator sees Witten's accounts, but may not deactivate them (only grant the coordination roles).
            let seen = try await client.api(.get, "/api/v1/users/\(wittenCM)", token: people["coordinator"].token)
            #expect(seen.status == .ok)
            let etag = try #require(seen.headers[.eTag])
            let district = try await client.api(.get, "/api/v1/users", token: people["coordinator"].token).array.compactMap {
                $0["tenant"] as? String
            }
            #expect(Set(district) == ["en-kreis", "en-kreis-abh", "witten", "awo-en", "hattingen"])
            let change = try await client.api(
                .patch,
                "/api/v1/users/\(wittenCM)",
                token: people["coordinator"].token,
                json: #"{"active":false}"#,
                headers: [.ifMatch: etag]
            )
            #expect(change.status == .forbidden)
            // Nothing changed.
            #expect(try await client.api(.get, "/api/v1/users/\(wittenCM)", token: people["wittenAdmin"].token).object["active"] as? Bool == true)
        }
    }

    @Test func aCoordinatorOfAnotherDistrictSeesNothingOfThisOne() async throws {
        try await TestApp.with { db, people, client in
            let onboarded = try await client.api(
                .post,
                "/api/v1/tenants",
                token: people["platform"].token,
                json:
                    #"{"slug":"kreis-mark","name":"Märkischer Kreis","kind":"district","admin":{"email":"admin@kreis-mark.test","display_name":"A"}}"#
            )
            #expect(onboarded.status == .created)
            let other = try await OperatorAccounts(database: db.owner, passwords: Passwords(cost: 4)).create(
                tenant: "kreis-mark",
                email: "ks@kreis-mark.test",
                displayName: "KS Mark",
                roles: [.districtCoordinator],
                password: TestApp.password
            )
            let (_, token) = try await OperatorAccounts(database: db.owner).createToken(email: other.email, name: "t", expiresInDays: 1)
            let tenants = try await client.api(.get, "/api/v1/tenants", token: token.value).array.compactMap { $0["slug"] as? String }
            #expect(tenants == ["kreis-mark"])
            #expect(try await client.api(.get, "/api/v1/users?tenant=witten", token: token.value).status == .notFound)
            #expect(try await client.api(.get, "/api/v1/users/\(people["wittenCM"].id)", token: token.value).status == .notFound)
            let users = try await client.api(.get, "/api/v1/users", token: token.value).array.compactMap { $0["email"] as? String }
            #expect(Set(users) == ["admin@kreis-mark.test", "ks@kreis-mark.test"])
            let audit = try await client.api(.get, "/api/v1/audit", token: token.value).array
            #expect(audit.allSatisfy { $0["tenant"] as? String == "kreis-mark" })
        }
    }
}
