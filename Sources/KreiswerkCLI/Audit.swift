import ArgumentParser
import Foundation
import Kreiswerk

struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The hash-chained audit trail.", subcommands: [Verify.self, Seal.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the chain; name the first broken entry. Exit status 1 if it is broken."
        )
        @Flag(help: "Seal pending entries first.") var seal = false
        @OptionGroup var common: CommonOptions

        func run() async throws {
            let logger = common.logger(default: .warning)
            let report = try await withOwnerDatabase(logger: logger) { database in
                let chain = AuditChain(database: database)
                if seal { try await chain.seal() }
                return try await chain.verify()
            }
            print(report)
            if !report.isIntact { throw ExitCode(1) }
        }
    }

    struct Seal: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Seal every pending entry into the chain now.")
        @OptionGroup var common: CommonOptions

        func run() async throws {
            let logger = common.logger(default: .warning)
            let sealed = try await withOwnerDatabase(logger: logger) { try await AuditChain(database: $0).seal() }
            print("sealed \(sealed) entr\(sealed == 1 ? "y" : "ies")")
        }
    }
}
