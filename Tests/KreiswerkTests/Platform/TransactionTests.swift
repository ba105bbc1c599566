import Foundation
import PostgresNIO
import Testing

@testable import Kreiswerk

/// A transaction reports success only when PostgreSQL committed it.
@Suite struct TransactionTests {
    static let logger = TestDatabase.logger

    /// `SELECT f(…)` whose rows are not read loses its error (PostgresNIO reports it with the rows); COMMIT of the
    /// failed transaction answers "ROLLBACK" without an error. The old `inTransaction` returned as if all was written.
    @Test func aTransactionWhoseStatementFailedUnreadIsNotReportedAsCommitted() async throws {
        try await TestDatabase.with { db in
            let witten = try #require(try await db.applyENKreis().first(where: { $0.tenant.slug == "witten" })).id
            await #expect(throws: TransactionRolledBack.self) {
                try await db.app.withTenant(witten) { connection in
                    // An audit entry of no tenant, written while acting for Witten: refused by the trail's policy.
                    _ = try await connection.query("SELECT audit_append('[{\"action\": \"test.unread\"}]'::jsonb)", logger: Self.logger)
                }
            }
            let written = try await db.owner.withTransaction { connection in
                try await connection.query("SELECT count(*)::integer FROM audit_log WHERE action = 'test.unread'", logger: Self.logger)
                    .collect().first!.decode(Int.self)
            }
            #expect(written == 0)
            // And a transaction that did commit says so.
            try await db.app.withTenant(witten) { connection in
                _ = try await connection.query("SELECT 1", logger: Self.logger).collect()
            }
        }
    }
}
