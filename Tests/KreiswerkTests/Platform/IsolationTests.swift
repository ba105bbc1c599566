import Foundation
import PostgresNIO
import Testing

@testable import Kreiswerk

/// Row-level security as the runtime role sees it.
@Suite struct IsolationTests {
    let logger = TestDatabase.logger

    private func ids(_ tenants: [StoredTenant]) -> (witten: UUID, hattingen: UUID) {
        (tenants.first { $0.tenant.slug == "witten" }!.id, tenants.first { $0.tenant.slug == "hattingen" }!.id)
    }

    @Test func withoutATenantNothingIsVisibleAndNothingCanBeInserted() async throws {
        try await TestDatabase.with { db in
            let (witten, _) = ids(try await db.applyENKreis())
            let count = try await db.app.withTransaction { connection in
                try await connection.query("SELECT count(*)::integer FROM tenant_staff_shares", logger: logger).collect().first!.decode(Int.self)
            }
            #expect(count == 0)
            let error = await #expect(throws: PSQLError.self) {
                try await db.app.withTransaction { connection in
                    try await connection.query(
                        "INSERT INTO tenant_staff_shares (tenant_id, programme, year, fte) VALUES (\(witten), 'coordination', 2023, 1)",
                        logger: logger
                    )
                }
            }
            #expect(error?.sqlState == "42501")
        }
    }

    @Test func aTenantSeesOnlyItsOwnRowsAndCannotTouchAnothersRows() async throws {
        try await TestDatabase.with { db in
            let (witten, hattingen) = ids(try await db.applyENKreis())
            try await db.app.withTenant(witten) { connection in
                let visible = try await connection.query("SELECT DISTINCT tenant_id FROM tenant_staff_shares", logger: logger)
                    .collect().map { try $0.decode(UUID.self) }
                #expect(visible == [witten])
                let updated = try await connection.query(
                    "UPDATE tenant_staff_shares SET fte = 9 WHERE tenant_id = \(hattingen) RETURNING 1",
                    logger: logger
                ).collect().count
                let deleted = try await connection.query(
                    "DELETE FROM tenant_staff_shares WHERE tenant_id = \(hattingen) RETURNING 1",
                    logger: logger
                ).collect().count
                #expect(updated == 0)
                #expect(deleted == 0)
            }
            let error = await #expect(throws: PSQLError.self) {
                try await db.app.withTenant(witten) { connection in
                    try await connection.query(
                        "INSERT INTO tenant_staff_shares (tenant_id, programme, year, fte) VALUES (\(hattingen), 'coordination', 2023, 1)",
                        logger: logger
                    )
                }
            }
            #expect(error?.sqlState == "42501")
            // Hattingen's rows are untouched.
            let hattingenShares = try await db.app.withTenant(hattingen) { connection in
                try await connection.query("SELECT sum(fte)::text FROM tenant_staff_shares", logger: logger).collect().first!.decode(String.self)
            }
            #expect(hattingenShares == "4.00")
        }
    }

    @Test func theTenantSettingEndsWithTheTransactionOnAPooledConnection() async throws {
        try await TestDatabase.with { db in
            let (witten, _) = ids(try await db.applyENKreis())
            try await db.app.client.withConnection { connection in
                let inside = try await connection.inTransaction(logger: logger) { connection in
                    try await connection.actAs(tenant: witten, logger: logger)
                    return try await connection.query("SELECT count(*)::integer FROM tenant_staff_shares", logger: logger)
                        .collect().first!.decode(Int.self)
                }
                #expect(inside == 3)
                let after = try await connection.query("SELECT count(*)::integer FROM tenant_staff_shares", logger: logger)
                    .collect().first!.decode(Int.self)
                #expect(after == 0)
            }
        }
    }

    /// Walks the catalogue: any table with a tenant_id column must have row-level security enabled and forced,
    /// with at least one policy. A table added later that forgets it fails here.
    @Test func everyTableWithATenantIdHasForcedRowLevelSecurity() async throws {
        try await TestDatabase.with { db in
            let rows = try await db.owner.client.query(
                """
                SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
                       (SELECT count(*)::integer FROM pg_policy p WHERE p.polrelid = c.oid)
                FROM pg_class c
                JOIN pg_namespace n ON n.oid = c.relnamespace
                JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
                WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
                ORDER BY c.relname
                """
            ).collect()
            #expect(!rows.isEmpty)
            for row in rows {
                let (table, enabled, forced, policies) = try row.decode((String, Bool, Bool, Int).self)
                #expect(enabled, "\(table): row-level security is not enabled")
                #expect(forced, "\(table): row-level security is not forced")
                #expect(policies > 0, "\(table): has no policy")
            }
        }
    }

    @Test func theRuntimeRoleOwnsNothingAndCannotBypassSecurity() async throws {
        try await TestDatabase.with { db in
            let row = try await db.app.client.query(
                """
                SELECT r.rolsuper, r.rolbypassrls,
                       (SELECT count(*)::integer FROM pg_class c WHERE c.relowner = r.oid AND c.relnamespace = 'public'::regnamespace)
                FROM pg_roles r WHERE r.rolname = current_user
                """
            ).collect().first!.decode((Bool, Bool, Int).self)
            #expect(row.0 == false)
            #expect(row.1 == false)
            #expect(row.2 == 0)
        }
    }
}
