import Foundation
import PostgresNIO
import Testing

@testable import Kreiswerk

/// The database's own privileges, read from its catalogue after every migration: a later migration that
/// forgets a rule fails here, not in an attacker's hands.
@Suite struct FunctionPrivilegeTests {
    let logger = TestDatabase.logger

    /// The functions only the job worker calls: claiming, reporting back, and sealing the audit trail.
    static let workerFunctions = [
        "job_claim(text,text[],text[],integer,bigint[])", "job_complete(text,bigint[])", "job_fail(text,bigint,text,timestamp with time zone)",
        "job_release(text,bigint[])", "job_recover_expired()", "audit_seal(integer)",
    ]

    /// Columns that hold secrets: only the sign-in functions (SECURITY DEFINER) read them.
    static let secretColumns = [
        ("users", "password_hash"), ("users", "totp_secret"), ("sessions", "token_hash"), ("api_tokens", "token_hash"),
        ("invitations", "token_hash"),
    ]

    private func names(_ sql: String, _ db: TestDatabase) async throws -> [String] {
        try await db.owner.withTransaction { connection in
            try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger).collect().map { try $0.decode(String.self) }.sorted()
        }
    }

    /// Our functions (schema public, not an extension's).
    static let ownFunctions = """
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'public'
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
        """

    @Test func noFunctionIsExecutableByPublic() async throws {
        try await TestDatabase.with { db in
            let open = try await names(
                """
                SELECT p.oid::regprocedure::text \(Self.ownFunctions)
                  AND EXISTS (SELECT 1 FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
                              WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE')
                """,
                db
            )
            #expect(open == [], "executable by PUBLIC: revoke it and grant the roles that call it")
            let count = try await names("SELECT count(*)::text \(Self.ownFunctions)", db)
            #expect(Int(count.first ?? "0")! > 40, "the catalogue query sees our functions")
        }
    }

    @Test func everyDefinerFunctionSearchesTemporaryObjectsLast() async throws {
        try await TestDatabase.with { db in
            let unpinned = try await names(
                """
                SELECT p.oid::regprocedure::text \(Self.ownFunctions) AND p.prosecdef
                  AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c ~ '^search_path=.*pg_temp$')
                """,
                db
            )
            #expect(unpinned == [], "SECURITY DEFINER without SET search_path = pg_catalog, public, pg_temp")
            let definers = try await names("SELECT p.proname::text \(Self.ownFunctions) AND p.prosecdef", db)
            #expect(definers.contains("job_claim") && definers.contains("auth_account"))
        }
    }

    @Test func theRequestRoleReadsNoSecretAndDoesNotRunTheWorkersFunctions() async throws {
        try await TestDatabase.with { db in
            for (table, column) in Self.secretColumns {
                let readable = try await names(
                    "SELECT has_column_privilege(r, '\(table)', '\(column)', 'SELECT')::text FROM unnest(ARRAY['kreiswerk_app', 'kreiswerk_worker']) r",
                    db
                )
                #expect(readable == ["false", "false"], "\(table).\(column) is selectable by the request or worker role")
            }
            for function in Self.workerFunctions {
                let app = try await names("SELECT has_function_privilege('kreiswerk_app', '\(function)', 'EXECUTE')::text", db)
                let worker = try await names("SELECT has_function_privilege('kreiswerk_worker', '\(function)', 'EXECUTE')::text", db)
                #expect(app == ["false"], "the request role may run \(function)")
                #expect(worker == ["true"], "the worker may not run \(function)")
            }
            // Nor can it create anything to shadow our names with.
            let creates = try await names(
                """
                SELECT r || ':' || has_database_privilege(r, current_database(), 'TEMPORARY')::text || ':'
                       || has_schema_privilege(r, 'public', 'CREATE')::text
                FROM unnest(ARRAY['kreiswerk_app', 'kreiswerk_worker']) r
                """,
                db
            )
            #expect(creates == ["kreiswerk_app:false:false", "kreiswerk_worker:false:false"])
        }
    }

    @Test func theRequestRoleCannotClaimJobsOrSeal() async throws {
        try await TestDatabase.with { db in
            for call in ["SELECT * FROM job_claim('w', NULL, ARRAY['noop'], 1)", "SELECT audit_seal(10)", "SELECT job_recover_expired()"] {
                let error = await #expect(throws: PSQLError.self) {
                    try await db.app.withTransaction { try await $0.query(PostgresQuery(unsafeSQL: call), logger: logger).collect() }
                }
                #expect(error?.sqlState == "42501", "\(call)")
            }
            let sealed = try await AuditChain(database: db.worker).seal()
            #expect(sealed >= 0, "the worker seals")
        }
    }

    /// Defense in depth of 0017: a tenant grants sight only of its own objects, and writes no audit entry that no tenant reads.
    @Test func aTenantGrantsOnlyItsOwnObjectsAndWritesOnlyItsOwnAuditEntries() async throws {
        try await TestDatabase.with { db in
            let tenants = try await db.applyENKreis()
            let witten = tenants.first { $0.tenant.slug == "witten" }!.id
            let hattingen = tenants.first { $0.tenant.slug == "hattingen" }!.id
            for kind in ["referral", "report", "conference"] {
                let refused = await #expect(throws: PSQLError.self) {
                    try await db.app.withTenant(hattingen, user: UUID()) { connection in
                        try await connection.query(
                            """
                            INSERT INTO access_grants (tenant_id, id, grantee_tenant_id, object_type, object_id, granted_by)
                            VALUES (\(hattingen), \(UUID()), \(witten), \(kind), \(UUID()), \(UUID()))
                            """,
                            logger: logger
                        )
                    }
                }
                #expect(refused?.sqlState == "42501", "a grant of a \(kind) Hattingen does not hold")
            }
            let tenantless = await #expect(throws: PSQLError.self) {
                try await db.app.withTenant(witten) { connection in
                    try await AuditLog.record(AuditEvent("test.entry", tenant: nil, actor: nil), on: connection, logger: logger)
                }
            }
            #expect(tenantless?.sqlState == "42501", "an entry without a tenant, written while acting for Witten")
            try await db.app.withTransaction { connection in
                try await AuditLog.record(AuditEvent("test.entry", tenant: nil, actor: nil), on: connection, logger: logger)
            }
        }
    }

    /// The attack of issue 15: a temporary `users` and `notifications` shadow the tables `notify()` writes,
    /// and a trigger written in pg_temp runs as whoever inserts into them. Up to migration 0016 that was
    /// kreiswerk_owner, who may switch the audit trail's triggers off; from 0017 on the request role can
    /// create no temporary table, and where it could (TEMPORARY granted by hand), notify() no longer
    /// looks in pg_temp: the trigger only ever runs as the caller, who may not.
    @Test func aTriggerInPgTempRunsAsTheCallerNeverAsTheOwner() async throws {
        try await TestDatabase.with(migrated: false) { db in
            let all = try Migration.load(from: TestDatabase.migrationsDirectory)
            try await Migrator(migrations: all.filter { $0.version < "0017" }, logger: logger).migrate(db.owner.client)
            #expect(try await attack(db) == .ranAsOwner, "the test reproduces the attack on the old schema")
            try await resetAuditTriggers(db)

            try await Migrator(migrations: all, logger: logger).migrate(db.owner.client)
            let refused = await #expect(throws: PSQLError.self) { try await attack(db) }
            #expect(refused?.sqlState == "42501", "no temporary tables for the request role")

            let superuser = try TestDatabase.superuserURL.with(database: db.name)
            try await withPostgresClient(superuser, logger: logger) { client in
                try await client.query(PostgresQuery(unsafeSQL: "GRANT TEMPORARY ON DATABASE \(db.name) TO kreiswerk_app"), logger: logger)
            }
            #expect(try await attack(db) == .ranAsCaller)
        }
    }

    enum AttackOutcome: Equatable { case ranAsOwner, ranAsCaller }

    /// Runs the attack on one request connection; says as whom the planted trigger ran.
    private func attack(_ db: TestDatabase) async throws -> AttackOutcome {
        try await db.app.client.withConnection { connection in
            let victim = UUID()
            for statement in [
                "CREATE TEMP TABLE seen (who text)",
                "CREATE TEMP TABLE users (tenant_id uuid, id uuid, email_notifications text, active boolean, roles text[])",
                "CREATE TEMP TABLE notifications (tenant_id uuid, id uuid DEFAULT gen_random_uuid(), user_id uuid, kind text, title text, link text, dedupe_key text, UNIQUE (user_id, dedupe_key))",
                "GRANT ALL ON pg_temp.seen, pg_temp.users, pg_temp.notifications TO PUBLIC",  // so that the owner's function may use them
                """
                CREATE FUNCTION pg_temp.plant() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    INSERT INTO pg_temp.seen VALUES (current_user);
                    BEGIN
                        ALTER TABLE public.audit_log DISABLE TRIGGER ALL;
                        INSERT INTO pg_temp.seen VALUES ('disabled the audit triggers');
                    EXCEPTION WHEN insufficient_privilege THEN NULL;
                    END;
                    RETURN NEW;
                END $$
                """,
                "CREATE TRIGGER plant BEFORE INSERT ON pg_temp.notifications FOR EACH ROW EXECUTE FUNCTION pg_temp.plant()",
                "INSERT INTO pg_temp.users VALUES ('\(victim)', '\(victim)', 'never', true, '{}')",
                "SELECT set_config('app.tenant_id', '\(victim)', false)",
                "SELECT notify('\(victim)', 'x', 'x', '/x', 'x')",
            ] {
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
            }
            var seen = try await connection.query("SELECT who FROM pg_temp.seen", logger: logger).collect().map { try $0.decode(String.self) }
            if seen.isEmpty {  // notify() did not use the planted tables: plant it directly, as the caller
                try await connection.query(
                    "INSERT INTO pg_temp.notifications (user_id, kind, title, link, dedupe_key) VALUES (\(victim), 'x', 'x', '/x', 'x')",
                    logger: logger
                )
                seen = try await connection.query("SELECT who FROM pg_temp.seen", logger: logger).collect().map { try $0.decode(String.self) }
                #expect(seen == ["kreiswerk_app"], "the trigger runs as the caller and cannot switch the audit triggers off")
                try await connection.query("RESET app.tenant_id", logger: logger)
                try await connection.query("DISCARD TEMP", logger: logger)
                return .ranAsCaller
            }
            #expect(seen == ["kreiswerk_owner", "disabled the audit triggers"])
            try await connection.query("RESET app.tenant_id", logger: logger)
            try await connection.query("DISCARD TEMP", logger: logger)
            return .ranAsOwner
        }
    }

    private func resetAuditTriggers(_ db: TestDatabase) async throws {
        try await db.owner.withTransaction { try await $0.query("ALTER TABLE audit_log ENABLE TRIGGER ALL", logger: logger) }
    }
}
