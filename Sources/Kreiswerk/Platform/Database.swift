import Foundation
import Logging
import PostgresNIO

/// The connection pool, and the only ways the service runs SQL: in a plain
/// transaction, or in a transaction that acts for one tenant.
public struct Database: Sendable {
    public let client: PostgresClient
    public let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Runs `body` in a transaction: committed if it returns, rolled back if it throws.
    /// The error thrown by `body` reaches the caller unchanged, so typed domain errors stay typed.
    public func withTransaction<Result: Sendable>(
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        // Bounded whatever the driver does: the lease and the work each within `DatabaseDeadline.limit`.
        try await DatabaseDeadline.leasing(from: client, isolation: isolation) { connection in
            try await DatabaseDeadline.guarding(connection, logger: logger, isolation: isolation) {
                try await connection.inTransaction(logger: logger, isolation: isolation, body)
            }
        }
    }

    /// Runs `body` in a transaction that acts for `tenant` (and `user`, when known).
    ///
    /// The tenant is set with `set_config(…, true)`, which lasts until the end of the
    /// transaction: a pooled connection never carries one request's tenant into the next.
    public func withTenant<Result: Sendable>(
        _ tenant: UUID,
        user: UUID? = nil,
        district: UUID? = nil,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await withTransaction(isolation: isolation) { connection in
            try await connection.actAs(tenant: tenant, user: user, district: district, logger: logger)
            return try await body(connection)
        }
    }

    /// Runs `body`, which only reads, acting for `tenant` without a transaction: act, each read a statement of its own,
    /// then `app_end_read` appends the read's audit events and clears the acting settings — three round trips for a
    /// page of one read, where a transaction takes five (BEGIN, act, read, audit, COMMIT). Under READ COMMITTED each
    /// statement of a transaction sees its own snapshot anyway, so the reads see what they would have seen in one.
    ///
    /// The settings last for the session until `app_end_read`: if `body` or the end fails, the settings are cleared,
    /// or the connection is closed, so no pooled connection keeps acting for a tenant. `body` must not write: its
    /// statements commit one by one (`TenantWork.read` is for reads; changes go through `withTenant`).
    public func reading<Result: Sendable>(
        _ tenant: UUID,
        user: UUID? = nil,
        district: UUID? = nil,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> (Result, [AuditEvent])
    ) async throws -> Result {
        try await DatabaseDeadline.leasing(from: client, isolation: isolation) { connection in
            try await DatabaseDeadline.guarding(connection, logger: logger, isolation: isolation) {
                guard !connection.isClosed else { throw DatabaseConnectionLost() }
                _ = try await connection.query(
                    """
                    SELECT set_config('app.tenant_id', \(tenant.uuidString), false), set_config('app.user_id', \(user?.uuidString ?? ""), false),
                           set_config('app.district_id', \(district?.uuidString ?? ""), false)
                    """,
                    logger: logger
                ).collect()
                do {
                    let (result, events) = try await body(connection)
                    guard !connection.isClosed else { throw DatabaseConnectionLost() }
                    // Drained: the end's error (a refused audit entry) arrives with its row.
                    _ = try await connection.query("SELECT app_end_read(\(AuditLog.Entries(events).json)::jsonb)", logger: logger).collect()
                    return result
                } catch {
                    if !connection.isClosed {
                        do { _ = try await connection.query("SELECT app_end_read('[]')", logger: logger).collect() } catch {
                            // A connection still acting for a tenant must never go back to the pool.
                            logger.error("ending a read failed, closing the connection", metadata: ["error": "\(String(reflecting: error))"])
                            try? await connection.close()
                        }
                    }
                    throw error
                }
            }
        }
    }
}

extension PostgresConnection {
    /// BEGIN, `body`, COMMIT — or ROLLBACK and rethrow `body`'s own error.
    public func inTransaction<Result: Sendable>(
        logger: Logger,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        // PostgresNIO 1.33 never answers a statement written to a closed connection (see DatabaseDeadline):
        // BEGIN, COMMIT and ROLLBACK are not sent to one. The server rolled its transaction back when it closed.
        guard !isClosed else { throw DatabaseConnectionLost() }
        try await query("BEGIN", logger: logger)
        let result: Result
        do {
            result = try await body(self)
        } catch {
            if !isClosed {
                do { try await query("ROLLBACK", logger: logger) } catch {
                    // A connection stuck in a transaction must never go back to the pool.
                    logger.error("rollback failed, closing the connection", metadata: ["error": "\(String(reflecting: error))"])
                    try? await close()
                }
            }
            throw error
        }
        guard !isClosed else { throw DatabaseConnectionLost() }
        try await query("COMMIT", logger: logger)
        return result
    }

    /// Sets the acting tenant and user for the rest of the current transaction, and the district whose
    /// tenants a district coordinator may read. Row-level security policies read them through
    /// `app_current_tenant()`, `app_current_user()` and `app_current_district()`.
    public func actAs(tenant: UUID, user: UUID? = nil, district: UUID? = nil, logger: Logger) async throws {
        for try await _ in try await execute(ActAs(tenant: tenant, user: user, district: district), logger: logger) {}
    }
}

/// The statement behind `actAs`: prepared once per connection, since every transaction for a tenant starts with it.
struct ActAs: PostgresPreparedStatement {
    static let sql = """
        SELECT set_config('app.tenant_id', $1, true), set_config('app.user_id', $2, true), set_config('app.district_id', $3, true)
        """
    static let bindingDataTypes: [PostgresDataType] = [.text, .text, .text]
    typealias Row = (String, String, String)
    var tenant: UUID
    var user: UUID?
    var district: UUID?

    func makeBindings() -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 3)
        bindings.append(tenant.uuidString)
        bindings.append(user?.uuidString ?? "")
        bindings.append(district?.uuidString ?? "")
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
}

/// Runs `body` with a started `PostgresClient` and shuts the client down afterwards.
/// For commands and tests; the server runs its client as a service instead.
public func withPostgresClient<Result: Sendable>(
    _ url: DatabaseURL,
    logger: Logger,
    isolation: isolated (any Actor)? = #isolation,
    _ body: (PostgresClient) async throws -> Result
) async throws -> Result {
    // The pool warns when it is leased before run() has started; here that race is harmless.
    var backgroundLogger = logger
    backgroundLogger.logLevel = max(logger.logLevel, .error)
    let client = PostgresClient(configuration: url.clientConfiguration, backgroundLogger: backgroundLogger)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { await client.run() }
        defer { group.cancelAll() }
        return try await body(client)
    }
}
