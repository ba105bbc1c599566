import Foundation
import Testing

@testable import Kreiswerk

/// The browser sweep (ops/tests/browser_sweep.py, issue 17) walks every page of the web UI: each GET route outside the API is
/// in its list of pages, or in its list of routes that are no page (downloads, health checks, the static files) with why.
@Suite struct BrowserSweepCoverageTests {
    @Test func theSweepKnowsEveryPage() async throws {
        try await TestDatabase.with { db in
            let routes = try await buildRoutes(TestApp.configuration(db), database: db.app, logger: TestDatabase.logger)
            let pages = Set(routes.rules.keys.filter { $0.hasPrefix("GET ") && !$0.contains(" /api/") }.map { String($0.dropFirst(4)) })
            let sweep = try String(contentsOf: Self.sweepFile, encoding: .utf8)
            // Each route stands in the sweep as a quoted string of its own: "/faelle/{case}" for /faelle/{id} (the sweep names
            // the object a parameter takes), so parameters are compared by position only.
            let known = Set(sweep.matches(of: /"(\/[^"\s]*)"/).map { Self.shape(String($0.1)) })
            let missing = pages.filter { !known.contains(Self.shape($0)) }.sorted()
            #expect(missing == [], "GET routes the browser sweep does not know: add them to PAGES or NOT_PAGES in ops/tests/browser_sweep.py")
        }
    }

    /// A route with its parameters' names left out: /faelle/{}/vorpruefungen.
    static func shape(_ route: String) -> String { route.replacing(/\{[^}]*\}/, with: "{}") }

    static var sweepFile: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("ops/tests/browser_sweep.py")
    }
}
