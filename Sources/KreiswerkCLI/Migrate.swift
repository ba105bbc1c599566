import ArgumentParser
import Foundation
import Kreiswerk

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply pending migrations, each in its own transaction (as the owner role, DATABASE_URL)."
    )

    @Flag(help: "List applied and pending migrations; change nothing.")
    var status = false

    @Option(help: "Folder of the migrations (env KREISWERK_MIGRATIONS, default ./migrations).")
    var migrations: String?

    @OptionGroup var common: CommonOptions

    func run() async throws {
        let logger = common.logger(default: .warning)
        let migrator = Migrator(migrations: try Migration.load(from: migrationsDirectory(migrations)), logger: logger)
        try await withOwnerDatabase(logger: logger) { database in
            if status {
                let states = try await migrator.status(database.client)
                for state in states {
                    let date = state.appliedAt.map { " \($0.formatted(.iso8601))" } ?? ""
                    print("\(state.status.rawValue.padding(toLength: 22, withPad: " ", startingAt: 0)) \(state.version)\(date)")
                }
                let pending = states.filter { $0.status == .pending }.count
                print(pending == 0 ? "Schema is current." : "\(pending) pending: run kreiswerk migrate.")
            } else {
                let applied = try await migrator.migrate(database.client)
                print(applied.isEmpty ? "Nothing to migrate: the schema is current." : applied.map { "applied \($0)" }.joined(separator: "\n"))
            }
        }
    }
}
