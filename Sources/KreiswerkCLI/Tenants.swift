import ArgumentParser
import Foundation
import Kreiswerk

struct Tenants: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The hosted districts and their tenants, declared in tenants/.",
        subcommands: [Plan.self, Apply.self, List.self, Export.self]
    )

    struct Plan: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show what apply would change; change nothing.")

        @OptionGroup var files: TenantFilesOptions
        @OptionGroup var common: CommonOptions

        func run() async throws {
            let logger = common.logger(default: .warning)
            let desired = try files.load()
            try await withOwnerDatabase(logger: logger) { database in
                print(try await TenantCatalogue(database: database).plan(desired, deactivateMissing: files.deactivateMissing).summary)
            }
        }
    }

    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Bring the catalogue in line with the files: all or nothing, and a second run changes nothing."
        )

        @OptionGroup var files: TenantFilesOptions
        @OptionGroup var common: CommonOptions

        func run() async throws {
            let logger = common.logger(default: .warning)
            try await withOwnerDatabase(logger: logger) { database in
                let (done, services) = try await TenantsFolder.apply(
                    URL(fileURLWithPath: files.directory),
                    database: database,
                    deactivateMissing: files.deactivateMissing
                )
                print(done.isEmpty ? done.summary : done.summary.replacingOccurrences(of: "Plan: ", with: "Applied: "))
                print(services)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every tenant with district, delegation, flags and funded staff shares.")

        @Option(help: "Only this district's tenants.") var district: String?
        @Flag(help: "JSON on stdout.") var json = false
        @OptionGroup var common: CommonOptions

        func run() async throws {
            let logger = common.logger(default: .warning)
            try await withOwnerDatabase(logger: logger) { database in
                let tenants = try await TenantCatalogue(database: database).list(district: district)
                if json {
                    print(try TenantListing.json(tenants))
                } else {
                    for stored in tenants {
                        let tenant = stored.tenant
                        let shares = tenant.staffShares.filter { $0.key.programme == .caseManagement }.sorted { $0.key < $1.key }
                            .map { "\($0.key.year): \($0.value)" }.joined(separator: ", ")
                        print(
                            [
                                tenant.slug, tenant.kind.rawValue, tenant.district ?? "–", tenant.name, shares.isEmpty ? "" : "CM \(shares)",
                                stored.active ? "" : "(inactive)",
                            ].filter { !$0.isEmpty }.joined(separator: "  ")
                        )
                    }
                }
            }
        }
    }
}

extension Tenants {
    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a tenant as its tenant file (all tenants of the district onboarded in the platform without a SLUG).",
            discussion: """
                Save the output as tenants/DISTRICT/SLUG.yaml: `tenants plan` then shows only `managed_by: api → files`, \
                and `tenants apply` moves the tenant under version control. With --write FOLDER each file is written there.
                """
        )

        @Argument(help: "The district's slug.") var district: String
        @Argument(help: "One tenant's slug (the district's own too).") var slug: String?
        @Option(help: "Write each file into this tenants folder (FOLDER/DISTRICT/SLUG.yaml) instead of printing it.") var write: String?
        @OptionGroup var common: CommonOptions

        func run() async throws {
            let logger = common.logger(default: .warning)
            let stored = try await withOwnerDatabase(logger: logger) { database in
                try await TenantCatalogue(database: database).list(district: district)
            }
            let chosen = try TenantFileExport.choose(stored, district: district, slug: slug)
            for (index, tenant) in chosen.enumerated() {
                let text = TenantFileExport.yaml(tenant, note: "Written by `kreiswerk tenants export` on \(Day.today.iso).")
                if let write {
                    let file = URL(fileURLWithPath: write).appendingPathComponent(TenantFileExport.path(of: tenant))
                    try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
                    try text.write(to: file, atomically: true, encoding: .utf8)
                    print("wrote \(file.path)")
                } else {
                    if chosen.count > 1 { print("\(index == 0 ? "" : "---\n")# tenants/\(TenantFileExport.path(of: tenant))") }
                    print(text, terminator: "")
                }
            }
        }
    }
}

/// The tenants folder and what to do with tenants that left it, shared by plan and apply.
struct TenantFilesOptions: ParsableArguments {
    @Argument(help: "The tenants folder.") var directory: String = "tenants"
    @Flag(help: "Deactivate tenants that are no longer in the files (they are never deleted).") var deactivateMissing = false

    /// The tenants, after checking the service directories too (so that plan reports their problems).
    func load() throws -> [Tenant] {
        try TenantsFolder.load(URL(fileURLWithPath: directory)).tenants
    }
}
