import Crypto
import Foundation

/// One file of `migrations/`: `NNNN_what_it_does.sql`, applied once, never edited afterwards.
public struct Migration: Sendable, Equatable {
    public var version: String
    public var sql: String
    public var checksum: String

    public init(version: String, sql: String) {
        self.version = version
        self.sql = sql
        self.checksum = SHA256.hash(data: Data(sql.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Every migration of a folder, in the order they apply.
    public static func load(from directory: URL) throws -> [Migration] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw ConfigurationError("cannot read the migrations folder \(directory.path): \(error.localizedDescription)")
        }
        let pattern = /^[0-9]{4}_[a-z0-9_]+\.sql$/
        var migrations: [Migration] = []
        for name in names.sorted() where name.hasSuffix(".sql") {
            guard name.wholeMatch(of: pattern) != nil else {
                throw ConfigurationError(
                    "migration file \(name) is misnamed: use four digits, an underscore and lower-case words, e.g. 0007_add_goals.sql"
                )
            }
            let url = directory.appendingPathComponent(name)
            guard let sql = try? String(contentsOf: url, encoding: .utf8) else {
                throw ConfigurationError("migration file \(url.path) is not readable UTF-8 text")
            }
            migrations.append(Migration(version: String(name.dropLast(4)), sql: sql))
        }
        return migrations
    }
}

/// What the database has recorded of one migration, next to what the folder holds.
public struct MigrationState: Sendable, Equatable {
    public enum Status: String, Sendable {
        case applied, pending, changed
        /// Recorded in the database, but the file is gone (a newer release ran, or a file was deleted).
        case unknownFile = "applied, file missing"
    }

    public var version: String
    public var status: Status
    public var appliedAt: Date?
}

/// The reason a migration run stopped, in words an operator can act on.
public struct MigrationError: Error, CustomStringConvertible {
    public var description: String
}
