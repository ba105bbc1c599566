import Hummingbird
import Logging

/// `/healthz`: the process is up. `/readyz`: the database answers and its schema is current.
struct HealthRoutes: Sendable {
    let database: Database
    let migrator: Migrator

    func register(on routes: GuardedRouter) {
        routes.open(.get, "/healthz") { _, _ in
            Status(status: "ok")
        }
        routes.open(.get, "/readyz") { _, _ -> Status in
            let states: [MigrationState]
            do {
                // Within 2 s whatever the pool and the driver do: a load balancer asks often and must hear "no" quickly
                // while PostgreSQL is down (the pool alone would wait up to 60 s for its circuit breaker).
                states = try await DatabaseDeadline.race(.seconds(2), waitingFor: "the readiness check") { [migrator, client = database.client] in
                    try await migrator.status(client)
                }
            } catch {
                database.logger.warning("readiness check failed", metadata: ["error": "\(String(reflecting: error))"])
                throw Problem(.serviceUnavailable, detail: "The database cannot be reached. Check that PostgreSQL runs and DATABASE_URL is right.")
            }
            let waiting = states.filter { $0.status != .applied && $0.status != .unknownFile }
            guard waiting.isEmpty else {
                throw Problem(
                    .serviceUnavailable,
                    detail:
                        "The database schema is not current: \(waiting.map { "\($0.version) (\($0.status.rawValue))" }.joined(separator: ", ")). Run kreiswerk migrate."
                )
            }
            return Status(status: "ready")
        }
    }

    struct Status: ResponseEncodable {
        var status: String
    }
}
