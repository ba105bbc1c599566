import Foundation
import PostgresNIO
import Testing

@testable import Kreiswerk

@Suite struct TenantCatalogueTests {
    let logger = TestDatabase.logger

    @Test func applyingTheDistrictCreatesItOnceAndTheTotalsHoldInTheDatabase() async throws {
        try await TestDatabase.with { db in
            let catalogue = TenantCatalogue(database: db.owner)
            let desired = try TenantFiles.load(from: TestDatabase.tenantsDirectory)
            let first = try await catalogue.apply(desired)
            #expect(first.creates.count == 21)
            let second = try await catalogue.apply(desired)
            #expect(second.isEmpty)
            #expect(second.summary.contains("No changes"))

            // Sum per year in SQL, as the runtime role, acting as each tenant in turn.
            let tenants = try await catalogue.list()
            var totals: [Int: Decimal] = [:]
            for stored in tenants {
                let rows = try await db.app.withTenant(stored.id) { connection in
                    try await connection.query(
                        "SELECT year, fte::text FROM tenant_staff_shares WHERE programme = 'case_management'",
                        logger: logger
                    ).collect().map { try $0.decode((Int, String).self) }
                }
                for (year, fte) in rows { totals[year, default: 0] += Decimal(string: fte)! }
            }
            #expect(totals == [2020: 6, 2021: 7, 2022: 14])
        }
    }

    @Test func aChangedFileIsPlannedThenApplied() async throws {
        try await TestDatabase.with { db in
            let catalogue = TenantCatalogue(database: db.owner)
            _ = try await db.applyENKreis()
            var desired = try TenantFiles.load(from: TestDatabase.tenantsDirectory)
            let index = desired.firstIndex { $0.slug == "schwelm" }!
            desired[index].staffShares[StaffShareKey(.caseManagement, 2023)] = FullTimeEquivalent("1.3")
            desired[index].name = "Stadt Schwelm (Sozialamt)"
            let plan = try await catalogue.plan(desired)
            #expect(plan.updates.map(\.slug) == ["schwelm"])
            #expect(plan.summary.contains("staff_shares.case_management.2023: – → 1.3"))
            // plan changes nothing
            #expect(try await catalogue.plan(desired) == plan)
            _ = try await catalogue.apply(desired)
            let schwelm = try await catalogue.list().first { $0.tenant.slug == "schwelm" }!
            #expect(schwelm.tenant.name == "Stadt Schwelm (Sozialamt)")
            #expect(schwelm.tenant.staffShares[StaffShareKey(.caseManagement, 2023)] == FullTimeEquivalent("1.3"))
        }
    }

    @Test func aTenantRemovedFromTheFilesIsReportedAndOnlyDeactivatedOnRequest() async throws {
        try await TestDatabase.with { db in
            let catalogue = TenantCatalogue(database: db.owner)
            _ = try await db.applyENKreis()
            let desired = try TenantFiles.load(from: TestDatabase.tenantsDirectory).filter { $0.slug != "drk-witten" }
            let plan = try await catalogue.apply(desired)
            #expect(plan.missing == ["drk-witten"])
            #expect(plan.summary.contains("--deactivate-missing"))
            #expect(try await catalogue.list().first { $0.tenant.slug == "drk-witten" }?.active == true)

            let deactivation = try await catalogue.apply(desired, deactivateMissing: true)
            #expect(deactivation.summary.contains("- deactivate drk-witten"))
            let drk = try await catalogue.list().first { $0.tenant.slug == "drk-witten" }
            #expect(drk?.active == false)
            #expect(drk?.tenant.staffShares[StaffShareKey(.caseManagement, 2022)] == FullTimeEquivalent("0.5"))
        }
    }

    @Test func theListingIsExactJSON() async throws {
        try await TestDatabase.with { db in
            await #expect(throws: TenantNotFound.self) { try await TenantCatalogue(database: db.owner).list(district: "en-kreis") }
            _ = try await db.applyENKreis()
            let json = try TenantListing.json(try await TenantCatalogue(database: db.owner).list(district: "en-kreis"))
            let parsed = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [[String: Any]]
            #expect(parsed.count == 21)
            let sprockhoevel = parsed.first { $0["slug"] as? String == "sprockhoevel" }!
            #expect(json.contains("\"2022\" : 1.24"))
            #expect((sprockhoevel["district"] as? String) == "en-kreis")
            let vhs = parsed.first { $0["slug"] as? String == "vhs-en-sued" }!
            #expect(((vhs["delegation"] as? [String: Any])?["acts_for"] as? [String]) == ["breckerfeld"])
            let witten = parsed.first { $0["slug"] as? String == "witten" }!
            #expect(((witten["flags"] as? [String: Any])?["entitled_to_own_coordination_post"] as? Bool) == true)
        }
    }
}
