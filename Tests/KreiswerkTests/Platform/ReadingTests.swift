import Foundation
import Logging
import PostgresNIO
import Testing

@testable import Kreiswerk

/// Reads act for their tenant without a transaction (`Database.reading`): the acting settings last for the session
/// until the read ends, so these tests hold that a pooled connection never keeps them — after a read, after a read
/// that fails — and that the read's audit entries are written as it ends.
@Suite struct ReadingTests {
    static let logger = TestDatabase.logger

    /// The request role's pool with one connection: the next lease is the connection the read used.
    static func withOneConnection<Result: Sendable>(_ db: TestDatabase, _ body: (Database) async throws -> Result) async throws -> Result {
        var configuration = db.appURL.clientConfiguration
        configuration.options.maximumConnections = 1
        configuration.options.minimumConnections = 0
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body(Database(client: client, logger: logger))
        }
    }

    /// What a plain transaction on the (only) connection sees of the acting settings, and that connection's backend.
    static func leftOver(_ database: Database) async throws -> (settings: String, backend: Int32) {
        try await database.withTransaction { connection in
            let row = try await connection.query(
                """
                SELECT coalesce(current_setting('app.tenant_id', true), '') || '|' || coalesce(current_setting('app.user_id', true), '')
                       || '|' || coalesce(current_setting('app.district_id', true), ''), pg_backend_pid()
                """,
                logger: logger
            ).collect().first!
            let (settings, backend) = try row.decode((String, Int32).self)
            return (settings, backend)
        }
    }

    static func auditEntries(_ action: String, _ db: TestDatabase) async throws -> Int {
        try await db.owner.withTransaction { connection in
            try await connection.query("SELECT count(*)::integer FROM audit_log WHERE action = \(action)", logger: logger).collect().first!
                .decode(Int.self)
        }
    }

    @Test func aReadActsForItsTenantWritesItsAuditAndLeavesTheConnectionActingForNobody() async throws {
        try await TestDatabase.with { db in
            let witten = try #require(try await db.applyENKreis().first(where: { $0.tenant.slug == "witten" }))
            try await Self.withOneConnection(db) { database in
                let user = UUID()
                let (seen, backend) = try await database.reading(witten.id, user: user) { connection in
                    let row = try await connection.query(
                        "SELECT current_setting('app.tenant_id') || '|' || current_setting('app.user_id'), pg_backend_pid()",
                        logger: Self.logger
                    ).collect().first!
                    let values = try row.decode((String, Int32).self)
                    return (values, [AuditEvent("test.read", tenant: witten.id, actor: nil, detail: ["results": "1"])])
                }
                #expect(seen == "\(witten.id.uuidString)|\(user.uuidString)", "the read acted for its tenant and user")
                let after = try await Self.leftOver(database)
                #expect(after.backend == backend, "the same pooled connection")
                #expect(after.settings == "||", "no acting tenant, user or district is left on the connection")
            }
            #expect(try await Self.auditEntries("test.read", db) == 1)
        }
    }

    @Test func aFailedReadLeavesNoActingSettingsAndNoAuditEntry() async throws {
        try await TestDatabase.with { db in
            let witten = try #require(try await db.applyENKreis().first(where: { $0.tenant.slug == "witten" }))
            try await Self.withOneConnection(db) { database in
                let backend = try await Self.leftOver(database).backend
                await #expect(throws: DomainError.self) {
                    let _: Int = try await database.reading(witten.id, user: UUID()) { _ in
                        throw DomainError.notFound("not here")
                    }
                }
                await #expect(throws: PSQLError.self) {
                    let _: Int = try await database.reading(witten.id, user: UUID()) { connection in
                        _ = try await connection.query("SELECT 1 / 0", logger: Self.logger).collect()
                        return (1, [AuditEvent("test.failed", tenant: witten.id, actor: nil)])
                    }
                }
                let after = try await Self.leftOver(database)
                #expect(after.backend == backend, "the connection was kept: the failed reads were ended, not abandoned")
                #expect(after.settings == "||")
            }
            #expect(try await Self.auditEntries("test.failed", db) == 0)
        }
    }

    @Test func aReadSeesOnlyItsTenantsRows() async throws {
        try await TestDatabase.with { db in
            let tenants = try await db.applyENKreis()
            let witten = try #require(tenants.first(where: { $0.tenant.slug == "witten" }))
            let hattingen = try #require(tenants.first(where: { $0.tenant.slug == "hattingen" }))
            try await db.app.withTenant(hattingen.id) { connection in
                try await connection.query(
                    "INSERT INTO clients (tenant_id, id, first_name, last_name, date_of_birth) VALUES (\(hattingen.id), \(UUID()), 'Hanna', 'Hattingen', '1990-01-01')",
                    logger: Self.logger
                )
            }
            let seen = try await db.app.reading(witten.id) { connection in
                (try await connection.query("SELECT count(*)::integer FROM clients", logger: Self.logger).collect().first!.decode(Int.self), [])
            }
            #expect(seen == 0, "Witten's read does not see Hattingen's client")
            let own = try await db.app.reading(hattingen.id) { connection in
                (try await connection.query("SELECT count(*)::integer FROM clients", logger: Self.logger).collect().first!.decode(Int.self), [])
            }
            #expect(own == 1)
        }
    }
}
