import Foundation
import Kreiswerk
import Logging
import PostgresNIO

/// Runs `body` against DATABASE_URL as the owner role, turning connection failures into a sentence.
func withOwnerDatabase<Result: Sendable>(
    logger: Logger,
    isolation: isolated (any Actor)? = #isolation,
    _ body: (Database) async throws -> Result
) async throws -> Result {
    let url = try databaseURL(from: "DATABASE_URL")
    do {
        return try await withPostgresClient(url, logger: logger) { client in
            try await body(Database(client: client, logger: logger))
        }
    } catch let error as PSQLError {
        if let message = error.serverInfo?[.message] {
            throw ConfigurationError("the database at \(url) refused: \(message)")
        }
        throw ConfigurationError("cannot reach the database at \(url) (\(error.code)): is PostgreSQL running? ops/run starts the private cluster")
    }
}
