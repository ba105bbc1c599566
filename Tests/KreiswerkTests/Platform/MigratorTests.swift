import Foundation
import PostgresNIO
import Testing

@testable import Kreiswerk

@Suite struct MigratorTests {
    let logger = TestDatabase.logger

    /// A migrator over the project's migrations plus one more file.
    private func withExtraMigration(_ version: String, _ sql: String, _ body: (Migrator) async throws -> Void) async throws {
        try await withTemporaryDirectory { folder in
            try copyContents(of: TestDatabase.migrationsDirectory, to: folder)
            try sql.write(to: folder.appendingPathComponent("\(version).sql"), atomically: true, encoding: .utf8)
            try await body(Migrator(migrations: try Migration.load(from: folder), logger: logger))
        }
    }

    @Test func freshDatabaseGetsEveryMigrationAndASecondRunIsANoOp() async throws {
        try await TestDatabase.with(migrated: false) { db in
            let migrator = Migrator(migrations: try Migration.load(from: TestDatabase.migrationsDirectory), logger: logger)
            #expect(try await migrator.status(db.owner.client).allSatisfy { $0.status == .pending })
            let applied = try await migrator.migrate(db.owner.client)
            #expect(applied == migrator.migrations.map(\.version))
            #expect(try await migrator.migrate(db.owner.client).isEmpty)
            #expect(try await migrator.status(db.owner.client).allSatisfy { $0.status == .applied })
        }
    }

    @Test func anAppliedFileThatChangedIsRefused() async throws {
        try await TestDatabase.with { db in
            try await withTemporaryDirectory { folder in
                try copyContents(of: TestDatabase.migrationsDirectory, to: folder)
                let first = folder.appendingPathComponent("0001_platform_core.sql")
                try (try String(contentsOf: first, encoding: .utf8) + "\n-- edited\n").write(to: first, atomically: true, encoding: .utf8)
                let migrator = Migrator(migrations: try Migration.load(from: folder), logger: logger)
                let error = await #expect(throws: MigrationError.self) { try await migrator.migrate(db.owner.client) }
                #expect(error?.description.contains("0001_platform_core.sql was changed after it was applied") == true)
                #expect(try await migrator.status(db.owner.client).first?.status == .changed)
            }
        }
    }

    @Test func aFailingMigrationLeavesNothingBehind() async throws {
        try await TestDatabase.with { db in
            try await withExtraMigration("9999_broken", "CREATE TABLE half_written (id int);\n\nSELECT 1 / 0;\n") { migrator in
                let error = await #expect(throws: MigrationError.self) { try await migrator.migrate(db.owner.client) }
                #expect(error?.description.contains("9999_broken.sql failed at the statement on line 3") == true)
                let exists = try await db.owner.client.query("SELECT to_regclass('half_written') IS NOT NULL").collect().first?.decode(Bool.self)
                #expect(exists == false)
                #expect(try await migrator.status(db.owner.client).last?.status == .pending)
            }
        }
    }

    @Test func transactionControlInsideAMigrationIsRefused() async throws {
        try await TestDatabase.with { db in
            try await withExtraMigration("9999_commits", "CREATE TABLE committed_early (id int);\nCOMMIT;\nSELECT 1 / 0;\n") { migrator in
                let error = await #expect(throws: MigrationError.self) { try await migrator.migrate(db.owner.client) }
                #expect(error?.description.contains("has COMMIT on line 2") == true)
                let exists = try await db.owner.client.query("SELECT to_regclass('committed_early') IS NOT NULL").collect().first?.decode(Bool.self)
                #expect(exists == false)
                // The lock was released: the next run gets through (and stops at the same file again).
                await #expect(throws: MigrationError.self) { try await migrator.migrate(db.owner.client) }
            }
        }
    }

    @Test func concurrentMigratorsApplyEachMigrationOnce() async throws {
        try await TestDatabase.with(migrated: false) { db in
            let migrator = Migrator(migrations: try Migration.load(from: TestDatabase.migrationsDirectory), logger: logger)
            let client = db.owner.client
            let results = try await withThrowingTaskGroup(of: [String].self) { group in
                for _ in 0..<4 { group.addTask { try await migrator.migrate(client) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            // The files create tables without IF NOT EXISTS: a second application would have failed.
            #expect(results.filter { !$0.isEmpty }.count == 1)
            #expect(results.flatMap { $0 } == migrator.migrations.map(\.version))
            let recorded = try await client.query("SELECT count(*)::integer FROM schema_migrations").collect().first?.decode(Int.self)
            #expect(recorded == migrator.migrations.count)
        }
    }

    @Test func misnamedFilesAreRefusedWithTheRule() async throws {
        try await withTemporaryDirectory { folder in
            try "SELECT 1".write(to: folder.appendingPathComponent("add-goals.sql"), atomically: true, encoding: .utf8)
            let error = #expect(throws: ConfigurationError.self) { try Migration.load(from: folder) }
            #expect(error?.description.contains("use four digits") == true)
        }
    }
}
