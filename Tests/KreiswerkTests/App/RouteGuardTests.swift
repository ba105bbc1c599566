import Foundation
import Hummingbird
import Testing

@testable import Kreiswerk

/// Every route is either open or guarded by a permission, and the API description matches the API.
@Suite struct RouteGuardTests {
    /// Routes the router serves that were not registered with an access rule.
    func unguarded(_ routes: GuardedRouter) -> [String] {
        routes.router.routes.map(\.description).filter { routes.rules[$0] == nil }.sorted()
    }

    func withRoutes(_ body: (GuardedRouter) async throws -> Void) async throws {
        try await TestDatabase.with { db in
            try await body(try await buildRoutes(TestApp.configuration(db), database: db.app, logger: TestDatabase.logger))
        }
    }

    @Test func everyRouteIsOpenOrGuardedAndOnlyTheKnownOnesAreOpen() async throws {
        try await withRoutes { routes in
            #expect(routes.router.routes.count > 20)
            #expect(unguarded(routes) == [])
            #expect(Set(routes.rules.keys) == Set(routes.router.routes.map(\.description)))
            let open = Set(routes.rules.filter { $0.value == .open }.keys)
            #expect(
                open == [
                    "GET /healthz", "GET /readyz", "GET /static/{file}", "GET /api/v1/openapi.json", "POST /api/v1/auth/login",
                    "GET /anmelden", "POST /anmelden", "GET /anmelden/zweiter-faktor", "POST /anmelden/zweiter-faktor", "POST /abmelden",
                    "GET /einladung/{token}", "POST /einladung/{token}",
                ]
            )
        }
    }

    @Test func aRouteAddedPastTheGuardIsCaught() async throws {
        try await withRoutes { routes in
            routes.router.get("/sneaky") { _, _ in "no one asked the policy" }
            #expect(unguarded(routes) == ["GET /sneaky"])
        }
    }

    @Test func theAPIDescriptionDescribesExactlyTheAPIRoutes() async throws {
        try await withRoutes { routes in
            let served = Set(routes.rules.keys.filter { $0.contains(" /api/v1/") })
            let described = try APIDescription.load().operations
            #expect(served.subtracting(described).sorted() == [], "served but not described in openapi.yaml")
            #expect(described.subtracting(served).sorted() == [], "described in openapi.yaml but not served")
        }
    }

    /// A kind the server sends but the document does not list breaks every client generated from it.
    @Test func theAPIDescriptionNamesEveryNotificationKind() throws {
        let document = try JSONSerialization.jsonObject(with: Data(APIDescription.load().json.readableBytesView)) as? [String: Any]
        let schemas = (document?["components"] as? [String: Any])?["schemas"] as? [String: Any]
        let kind = ((schemas?["Notification"] as? [String: Any])?["properties"] as? [String: Any])?["kind"] as? [String: Any]
        #expect((kind?["enum"] as? [String] ?? []).sorted() == NotificationKind.allCases.map(\.rawValue).sorted())
    }

    @Test func theAPIDescriptionIsServedAsJSON() async throws {
        try await TestApp.with { _, _, client in
            let response = try await client.api(.get, "/api/v1/openapi.json", token: nil)
            #expect(response.status == .ok)
            #expect(response.object["openapi"] as? String == "3.0.3")
            #expect((response.object["paths"] as? [String: Any])?["/api/v1/me"] != nil)
        }
    }
}
