import ArgumentParser
import Foundation
import Kreiswerk

struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Synthetic data for demonstrations and benchmarks.", subcommands: [Seed.self])

    struct Seed: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fill a district's towns with synthetic clients, cases and goals (and demo case managers cmN@TOWN.demo, without passwords)."
        )
        @Option(help: "The district's slug.") var district: String
        @Option(help: "How many clients in all (shared out by the towns' funded posts).") var clients: Int
        @OptionGroup var common: CommonOptions

        func run() async throws {
            guard clients > 0, clients <= 10_000_000 else { throw ValidationError("--clients must be between 1 and 10,000,000") }
            let logger = common.logger(default: .warning)
            let summary = try await withOwnerDatabase(logger: logger) { try await DemoData(database: $0).seed(district: district, clients: clients) }
            print(summary)
        }
    }
}
