import Foundation
import Testing

@testable import Kreiswerk

@Suite struct TenantFilesTests {
    @Test func theEnnepeRuhrKreisMatchesTheSeedsStaffingTable() throws {
        let tenants = try TenantFiles.load(from: TestDatabase.tenantsDirectory)
        #expect(tenants.count == 21)
        #expect(
            Set(tenants.map(\.slug)) == [
                "en-kreis", "breckerfeld", "ennepetal", "gevelsberg", "hattingen", "herdecke", "schwelm", "sprockhoevel", "wetter-ruhr",
                "witten", "awo-en", "caritas-en", "drk-witten", "vhs-en-sued", "en-kreis-abh", "en-kreis-jugendamt", "en-kreis-sozialamt",
                "jobcenter-en", "agentur-hagen", "witten-jugendamt", "witten-abh",
            ]
        )
        func total(_ year: Int) -> FullTimeEquivalent {
            tenants.compactMap { $0.staffShares[StaffShareKey(.caseManagement, year)] }.reduce(.zero, +)
        }
        #expect(total(2020) == FullTimeEquivalent(hundredths: 600))
        #expect(total(2021) == FullTimeEquivalent(hundredths: 700))
        #expect(total(2022) == FullTimeEquivalent(hundredths: 1400))
        #expect(tenants.filter(\.isEntitledToOwnCoordinationPost).map(\.slug) == ["witten"])
        #expect(tenants.first { $0.slug == "breckerfeld" }?.caseManagementBy == "vhs-en-sued")
    }

    @Test(arguments: [
        ("unknown kind", "hattingen.yaml", "kind: municipality", "kind: town", "en-kreis/hattingen.yaml:3: kind: 'town' is not a tenant kind"),
        ("missing district", "hattingen.yaml", "district: en-kreis\n", "", "en-kreis/hattingen.yaml: district: is missing"),
        ("negative share", "hattingen.yaml", "2022: 2.0", "2022: -2.0", "staff_shares.case_management.2022: '-2.0' is negative"),
        ("comma decimal", "hattingen.yaml", "2022: 2.0", "2022: \"2,0\"", "uses a comma"),
        ("unknown field", "hattingen.yaml", "kind: municipality", "kind: municipality\nfunded: yes", "funded: is not a known field"),
        ("yaml syntax", "hattingen.yaml", "name: Stadt Hattingen", "name: [Stadt Hattingen", "en-kreis/hattingen.yaml:"),
        ("null name", "hattingen.yaml", "name: Stadt Hattingen", "name: ~", "en-kreis/hattingen.yaml:2: name: is missing"),
        ("unknown district", "hattingen.yaml", "district: en-kreis", "district: en-kries", "district: 'en-kries' is not a district"),
    ])
    func aBadFileIsNamedWithItsFieldAndWhatIsWrong(
        _ label: String,
        _ file: String,
        _ original: String,
        _ replacement: String,
        _ expected: String
    ) async throws {
        try await withTemporaryDirectory { folder in
            try copyContents(of: TestDatabase.tenantsDirectory, to: folder)
            let url = folder.appendingPathComponent("en-kreis").appendingPathComponent(file)
            let text = try String(contentsOf: url, encoding: .utf8)
            #expect(text.contains(original), "fixture for \(label) no longer matches")
            try text.replacingOccurrences(of: original, with: replacement).write(to: url, atomically: true, encoding: .utf8)
            let error = #expect(throws: TenantFilesInvalid.self) { try TenantFiles.load(from: folder) }
            #expect(error?.description.contains(expected) == true, "\(label): \(error?.description ?? "no error")")
        }
    }

    @Test func aDuplicateSlugNamesBothFiles() async throws {
        try await withTemporaryDirectory { folder in
            try copyContents(of: TestDatabase.tenantsDirectory, to: folder)
            let district = folder.appendingPathComponent("en-kreis")
            try FileManager.default.copyItem(
                at: district.appendingPathComponent("witten.yaml"),
                to: district.appendingPathComponent("witten-copy.yaml")
            )
            let error = #expect(throws: TenantFilesInvalid.self) { try TenantFiles.load(from: folder) }
            #expect(error?.description.contains("slug: 'witten' is already used by") == true)
        }
    }

    @Test func staffSharesAreExactDecimals() {
        #expect(FullTimeEquivalent("0.65")?.hundredths == 65)
        #expect(FullTimeEquivalent("1.5")?.hundredths == 150)
        #expect(FullTimeEquivalent("2")?.hundredths == 200)
        #expect(FullTimeEquivalent("0.655") == nil)
        #expect(FullTimeEquivalent("-1") == nil)
        #expect(FullTimeEquivalent("1.24")!.description == "1.24")
        #expect((FullTimeEquivalent("0.1")! + FullTimeEquivalent("0.2")!).description == "0.3")
    }
}
