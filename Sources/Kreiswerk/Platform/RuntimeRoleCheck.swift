import Logging
import PostgresNIO

/// Refuses to serve as a role that row-level security would not hold: a superuser,
/// a role with BYPASSRLS, or one that owns tables or may act as their owner (owners can switch RLS off).
enum RuntimeRoleCheck {
    /// Checks a connection's role before anything starts: a server that would refuse never listens,
    /// and no service is stopped half-way through its first query.
    static func verify(_ url: DatabaseURL, claimsJobs: Bool = false, logger: Logger) async throws {
        try await withPostgresClient(url, logger: logger) { client in
            let database = Database(client: client, logger: logger)
            try await verify(database)
            if claimsJobs { try await verifyClaimsJobs(database) }
        }
    }

    /// Throws unless the connection's role is held by row-level security. Job workers call it too
    /// before they run anything: a job must never act with a wider context than its tenant's.
    static func verify(_ database: Database) async throws {
        let rows = try await database.client.query(
            """
            SELECT current_user, r.rolsuper, r.rolbypassrls,
                   (SELECT count(*) FROM pg_class c
                    WHERE c.relkind IN ('r', 'p') AND pg_has_role(r.oid, c.relowner, 'MEMBER'))::integer
            FROM pg_roles r WHERE r.rolname = current_user
            """,
            logger: database.logger
        )
        for try await (role, isSuperuser, bypassesRLS, ownedTables) in rows.decode((String, Bool, Bool, Int).self) {
            guard !isSuperuser, !bypassesRLS, ownedTables == 0 else {
                throw ConfigurationError(
                    "the service connects as '\(role)', which \(isSuperuser ? "is a superuser" : bypassesRLS ? "has BYPASSRLS" : "owns (or is a member of the owner of) \(ownedTables) tables"): "
                        + "row-level security would not protect tenants. Connect as kreiswerk_app (KREISWERK_APP_DATABASE_URL)."
                )
            }
            database.logger.info("runtime role checked", metadata: ["role": "\(role)"])
        }
    }

    /// Throws unless the connection's role may claim jobs (kreiswerk_worker): a worker given the request role's
    /// connection would start and then fail every claim, so it refuses to start instead.
    static func verifyClaimsJobs(_ database: Database) async throws {
        let rows = try await database.client.query(
            "SELECT current_user::text, has_function_privilege('job_claim(text, text[], text[], integer, bigint[])', 'EXECUTE')",
            logger: database.logger
        )
        for try await (role, mayClaim) in rows.decode((String, Bool).self) where !mayClaim {
            throw ConfigurationError(
                "the job worker connects as '\(role)', which may not claim jobs: connect as kreiswerk_worker (KREISWERK_WORKER_DATABASE_URL)"
            )
        }
    }
}
