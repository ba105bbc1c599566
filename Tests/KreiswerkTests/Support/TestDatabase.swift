import Foundation
import Logging
import PostgresNIO
import Testing

@testable import Kreiswerk

/// A fresh database on the test cluster that ops/test starts, dropped afterwards.
///
/// Each test gets its own database, so Swift Testing can run them in parallel.
/// `owner` connects as kreiswerk_owner (migrations, tenants apply); `app` as
/// kreiswerk_app, the request role that row-level security constrains; `worker` as
/// kreiswerk_worker, the job worker's role (kreiswerk_app's rights, and claiming and sealing).
struct TestDatabase {
    static let logger: Logger = {
        var logger = Logger(label: "kreiswerk-tests")
        logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .error
        return logger
    }()
    static let checkout = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static let migrationsDirectory = checkout.appendingPathComponent("migrations")
    static let tenantsDirectory = checkout.appendingPathComponent("tenants")

    let name: String
    let ownerURL: DatabaseURL
    let appURL: DatabaseURL
    let workerURL: DatabaseURL
    let owner: Database
    let app: Database
    let worker: Database

    static var superuserURL: DatabaseURL {
        get throws {
            guard let value = ProcessInfo.processInfo.environment["KREISWERK_TEST_SUPERUSER_URL"] else {
                throw ConfigurationError("KREISWERK_TEST_SUPERUSER_URL is not set: run the tests with ops/test, which starts their PostgreSQL")
            }
            return try DatabaseURL(value)
        }
    }

    /// Runs `body` with a new database, migrated unless `migrated` is false.
    static func with<Result: Sendable>(
        migrated: Bool = true,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (TestDatabase) async throws -> Result
    ) async throws -> Result {
        let superuser = try superuserURL
        let environment = ProcessInfo.processInfo.environment
        let name = "kwt_" + UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: "")
        try await withPostgresClient(superuser, logger: logger) { client in
            try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name) OWNER kreiswerk_owner"), logger: logger)
        }
        let ownerURL = superuser.with(database: name).with(username: "kreiswerk_owner", password: environment["KREISWERK_TEST_OWNER_PASSWORD"])
        let appURL = superuser.with(database: name).with(username: "kreiswerk_app", password: environment["KREISWERK_TEST_APP_PASSWORD"])
        let workerURL = superuser.with(database: name).with(username: "kreiswerk_worker", password: environment["KREISWERK_TEST_WORKER_PASSWORD"])
        do {
            let result = try await withPostgresClient(ownerURL, logger: logger) { ownerClient in
                try await withPostgresClient(appURL, logger: logger) { appClient in
                    try await withPostgresClient(workerURL, logger: logger) { workerClient in
                        if migrated {
                            try await Migrator(migrations: try Migration.load(from: migrationsDirectory), logger: logger).migrate(ownerClient)
                        }
                        let database = TestDatabase(
                            name: name,
                            ownerURL: ownerURL,
                            appURL: appURL,
                            workerURL: workerURL,
                            owner: Database(client: ownerClient, logger: logger),
                            app: Database(client: appClient, logger: logger),
                            worker: Database(client: workerClient, logger: logger)
                        )
                        return try await body(database)
                    }
                }
            }
            try await drop(name, superuser)
            return result
        } catch {
            try? await drop(name, superuser)
            throw error
        }
    }

    private static func drop(_ name: String, _ superuser: DatabaseURL) async throws {
        try await withPostgresClient(superuser, logger: logger) { client in
            try await client.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"), logger: logger)
        }
    }

    /// The Ennepe-Ruhr-Kreis of tenants/, applied.
    func applyENKreis() async throws -> [StoredTenant] {
        _ = try await TenantsFolder.apply(Self.tenantsDirectory, database: owner)
        return try await TenantCatalogue(database: owner).list()
    }
}

/// A temporary folder, removed after `body`.
func withTemporaryDirectory<Result>(_ body: (URL) async throws -> Result) async throws -> Result {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("kreiswerk-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try await body(url)
}

/// Copies a folder's contents (recursively) into `destination`.
func copyContents(of source: URL, to destination: URL) throws {
    for name in try FileManager.default.contentsOfDirectory(atPath: source.path) {
        try FileManager.default.copyItem(at: source.appendingPathComponent(name), to: destination.appendingPathComponent(name))
    }
}

extension PSQLError {
    /// The SQLSTATE the server sent, e.g. 42501 for a row-level security violation.
    var sqlState: String? { serverInfo?[.sqlState] }
}
