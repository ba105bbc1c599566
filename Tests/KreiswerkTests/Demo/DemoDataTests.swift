import Foundation
import PostgresNIO
import Testing

@testable import Kreiswerk

/// The demo seed: every client has consent and a case, shares follow the funded posts, tenants stay apart.
@Suite struct DemoDataTests {
    @Test func theSeedFillsTheTownsByTheirPostsAndKeepsThemApart() async throws {
        try await TestDatabase.with { db in
            let stored = try await db.applyENKreis()
            let summary = try await DemoData(database: db.owner).seed(district: "en-kreis", clients: 900)
            #expect(summary.clients == 900)
            #expect(summary.goals > 900, "two goals for each case past the assessment (80% are closed): \(summary.goals)")
            let counts = try await db.owner.withTransaction { connection in
                try await connection.query(
                    """
                    SELECT t.slug, count(DISTINCT c.id)::integer, count(DISTINCT k.id)::integer, count(DISTINCT n.client_id)::integer
                    FROM clients c JOIN tenants t ON t.id = c.tenant_id JOIN cases k ON k.client_id = c.id
                    JOIN consents n ON n.client_id = c.id AND n.scope = 'case_management'
                    GROUP BY t.slug
                    """,
                    logger: TestDatabase.logger
                ).collect().map { try $0.decode((String, Int, Int, Int).self) }
            }
            #expect(counts.map(\.1).reduce(0, +) == 900)
            #expect(counts.allSatisfy { $0.1 == $0.2 && $0.1 == $0.3 }, "each client has one case and consent")
            let bySlug = Dictionary(uniqueKeysWithValues: counts.map { ($0.0, $0.1) })
            #expect(bySlug["witten"]! > bySlug["schwelm"]!, "Witten has 2.0 posts, Schwelm 0.65")
            #expect(bySlug["awo-en"] == nil, "carriers are not seeded")
            // Under the runtime role, Witten sees Witten's clients only.
            let witten = stored.first { $0.tenant.slug == "witten" }!.id
            let visible = try await db.app.withTenant(witten) { connection in
                try await connection.query("SELECT count(*)::integer FROM clients", logger: TestDatabase.logger).collect().first!.decode(Int.self)
            }
            #expect(visible == bySlug["witten"])
            // A second run adds; numbers continue.
            _ = try await DemoData(database: db.owner).seed(district: "en-kreis", clients: 90)
            let numbers = try await db.owner.withTransaction { connection in
                try await connection.query("SELECT count(DISTINCT case_number)::integer, count(*)::integer FROM cases", logger: TestDatabase.logger)
                    .collect().first!.decode((Int, Int).self)
            }
            #expect(numbers.0 == 990 && numbers.1 == 990)
        }
    }

    @Test func aCaseManagersCaseloadDoesNotGrowWithTheDistrict() async throws {
        try await TestDatabase.with { db in
            _ = try await db.applyENKreis()
            func largest() async throws -> Int {
                try await db.owner.withTransaction { connection in
                    try await connection.query(
                        "SELECT max(n)::integer FROM (SELECT count(*) AS n FROM cases GROUP BY owner_id) c",
                        logger: TestDatabase.logger
                    ).collect().first!.decode(Int.self)
                }
            }
            _ = try await DemoData(database: db.owner).seed(district: "en-kreis", clients: 2000)
            let small = try await largest()
            _ = try await DemoData(database: db.owner).seed(district: "en-kreis", clients: 20000)
            let large = try await largest()
            #expect(large <= DemoData.caseload + 20, "the largest caseload after 22,000 clients: \(large) (after 2,000: \(small))")
        }
    }
}
