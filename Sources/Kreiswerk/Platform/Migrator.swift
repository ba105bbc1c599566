import Foundation
import Logging
import PostgresNIO

/// Applies `migrations/*.sql` in order, each in its own transaction, and records
/// each with its checksum in `schema_migrations`.
///
/// A session-level advisory lock makes a second migrator that starts at the same
/// time wait, then find nothing left to do.
public struct Migrator: Sendable {
    /// `pg_advisory_lock` key shared by every migrator of every Kreiswerk version.
    static let lockKey: Int64 = 0x4B52_4557_4D49_4752  // "KREWMIGR"

    public let migrations: [Migration]
    public let logger: Logger

    public init(migrations: [Migration], logger: Logger) {
        self.migrations = migrations
        self.logger = logger
    }

    /// Applies every pending migration and returns the versions it applied (empty: nothing to do).
    @discardableResult
    public func migrate(_ client: PostgresClient) async throws -> [String] {
        try await client.withConnection { connection in
            _ = try await connection.query("SELECT pg_advisory_lock(\(Self.lockKey))", logger: logger).collect()
            let result: Result<[String], any Error>
            do { result = .success(try await apply(on: connection)) } catch { result = .failure(error) }
            do {
                _ = try await connection.query("SELECT pg_advisory_unlock(\(Self.lockKey))", logger: logger).collect()
            } catch {
                // Closing the session is what surely releases a session-level lock.
                try? await connection.close()
            }
            return try result.get()
        }
    }

    /// Applied, pending and changed migrations, without changing anything.
    public func status(_ client: PostgresClient) async throws -> [MigrationState] {
        let recorded = try await client.withConnection { try await recordedMigrations(on: $0) }
        return Self.compare(files: migrations, recorded: recorded)
    }

    /// True when every file is applied with an unchanged checksum.
    public func isCurrent(_ states: [MigrationState]) -> Bool {
        states.allSatisfy { $0.status == .applied || $0.status == .unknownFile }
    }

    // MARK: - Applying

    private func apply(on connection: PostgresConnection) async throws -> [String] {
        try await connection.query(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version text PRIMARY KEY,
                checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now(),
                duration_ms integer NOT NULL
            )
            """,
            logger: logger
        )
        let states = Self.compare(files: migrations, recorded: try await recordedMigrations(on: connection))
        if let changed = states.first(where: { $0.status == .changed }) {
            throw MigrationError(
                description: """
                    migration \(changed.version).sql was changed after it was applied: its checksum no longer matches the one recorded \
                    in schema_migrations. Applied migrations are immutable: restore the file as it was and put the change into a new migration.
                    """
            )
        }
        var applied: [String] = []
        for migration in migrations where states.contains(where: { $0.version == migration.version && $0.status == .pending }) {
            let started = ContinuousClock.now
            try await connection.inTransaction(logger: logger) { connection in
                for statement in SQLScript(migration.sql).statements {
                    let firstWord = statement.text.prefix { $0.isLetter }.uppercased()
                    if ["BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT"].contains(firstWord) {
                        throw MigrationError(
                            description:
                                "migration \(migration.version).sql has \(firstWord) on line \(statement.line): each migration already runs in its own transaction; remove it."
                        )
                    }
                    do {
                        _ = try await connection.query(PostgresQuery(unsafeSQL: statement.text), logger: logger).collect()
                    } catch let error as PSQLError {
                        let message = error.serverInfo?[.message] ?? "\(error.code)"
                        throw MigrationError(
                            description:
                                "migration \(migration.version).sql failed at the statement on line \(statement.line): \(message). Nothing of it was applied."
                        )
                    }
                }
                let milliseconds = Int((ContinuousClock.now - started) / .milliseconds(1))
                try await connection.query(
                    "INSERT INTO schema_migrations (version, checksum, duration_ms) VALUES (\(migration.version), \(migration.checksum), \(milliseconds))",
                    logger: logger
                )
            }
            logger.info("applied migration", metadata: ["version": "\(migration.version)"])
            applied.append(migration.version)
        }
        return applied
    }

    // MARK: - Reading the record

    private struct Recorded {
        var checksum: String
        var appliedAt: Date
    }

    private func recordedMigrations(on connection: PostgresConnection) async throws -> [String: Recorded] {
        let exists =
            try await connection.query("SELECT to_regclass('schema_migrations') IS NOT NULL", logger: logger)
            .collect().first?.decode(Bool.self) ?? false
        guard exists else { return [:] }
        var recorded: [String: Recorded] = [:]
        let rows = try await connection.query("SELECT version, checksum, applied_at FROM schema_migrations", logger: logger)
        for try await (version, checksum, appliedAt) in rows.decode((String, String, Date).self) {
            recorded[version] = Recorded(checksum: checksum, appliedAt: appliedAt)
        }
        return recorded
    }

    private static func compare(files: [Migration], recorded: [String: Recorded]) -> [MigrationState] {
        var states = files.map { file -> MigrationState in
            guard let record = recorded[file.version] else { return MigrationState(version: file.version, status: .pending) }
            return MigrationState(
                version: file.version,
                status: record.checksum == file.checksum ? .applied : .changed,
                appliedAt: record.appliedAt
            )
        }
        let known = Set(files.map(\.version))
        for (version, record) in recorded where !known.contains(version) {
            states.append(MigrationState(version: version, status: .unknownFile, appliedAt: record.appliedAt))
        }
        return states.sorted { $0.version < $1.version }
    }
}
