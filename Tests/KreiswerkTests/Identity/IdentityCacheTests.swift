import Foundation
import PostgresNIO
import Testing

@testable import Kreiswerk

/// The identity cache saves a round trip per request, and never outlives a change: every change that can end or
/// narrow an identity reaches it through the database's notices (migration 0030) before the next request.
@Suite struct IdentityCacheTests {
    @Test func aCachedIdentityEndsWithTheNextRequestAfterItsTokenIsRevokedOrItsRolesChange() async throws {
        try await TestApp.with { db, people, _ in
            let cache = IdentityCache(lifetime: .seconds(60))
            let credentials = Credentials(cache: cache, logger: TestDatabase.logger)
            try await Self.listening(cache, on: db) {
                let token = people["wittenCM"].token
                let first = try #require(try await credentials.identity(bearer: token, on: db.app.client))
                #expect(first.roles == [.caseManager])
                #expect(cache.count == 1)

                // Served from memory: a change the database does not announce (triggers off) goes unnoticed.
                try await Self.superuser(db, "UPDATE users SET display_name = 'Unangekündigt' WHERE id = '\(people["wittenCM"].id)'")
                #expect(try await credentials.identity(bearer: token, on: db.app.client)?.displayName == first.displayName)

                // Roles taken away: the next lookup resolves again and sees them.
                try await db.owner.withTransaction { connection in
                    try await connection.query(
                        "UPDATE users SET roles = ARRAY['team_lead'] WHERE id = \(people["wittenCM"].id)",
                        logger: TestDatabase.logger
                    )
                }
                try await Self.eventually { try await credentials.identity(bearer: token, on: db.app.client)?.roles == [.teamLead] }
                #expect(try await credentials.identity(bearer: token, on: db.app.client)?.displayName == "Unangekündigt")

                // Revoked: gone for the next request.
                try await db.owner.withTransaction { connection in
                    try await connection.query(
                        "UPDATE api_tokens SET revoked_at = now() WHERE user_id = \(people["wittenCM"].id)",
                        logger: TestDatabase.logger
                    )
                }
                try await Self.eventually { try await credentials.identity(bearer: token, on: db.app.client) == nil }
            }
            // Not listening: nothing is kept, every request resolves its identity.
            #expect(cache.count == 0)
            _ = try await credentials.identity(bearer: people["wittenAdmin"].token, on: db.app.client)
            #expect(cache.count == 0)
        }
    }

    @Test func anEndedSessionLeavesTheCacheAtOnce() async throws {
        try await TestApp.with { db, people, _ in
            let cache = IdentityCache(lifetime: .seconds(60))
            let credentials = Credentials(cache: cache, logger: TestDatabase.logger)
            let cookie = "kws_" + UUID().uuidString
            try await db.owner.withTransaction { connection in
                try await connection.query(
                    """
                    INSERT INTO sessions (tenant_id, id, user_id, token_hash, csrf_token, expires_at)
                    SELECT tenant_id, gen_random_uuid(), id, \(Secret.digest(cookie)), 'csrf', now() + interval '1 hour'
                    FROM users WHERE id = \(people["wittenAdmin"].id)
                    """,
                    logger: TestDatabase.logger
                )
            }
            try await Self.listening(cache, on: db) {
                #expect(try await credentials.identity(session: cookie, on: db.app.client)?.0.email == people["wittenAdmin"].email)
                #expect(cache.count == 1)
                try await db.owner.withTransaction { connection in
                    try await connection.query(
                        "UPDATE sessions SET ended_at = now() WHERE token_hash = \(Secret.digest(cookie))",
                        logger: TestDatabase.logger
                    )
                }
                try await Self.eventually { try await credentials.identity(session: cookie, on: db.app.client) == nil }
            }
        }
    }

    /// Runs `body` while the cache's listener listens (as it does in `serve`).
    static func listening(_ cache: IdentityCache, on db: TestDatabase, _ body: () async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await IdentityCache.Listener(cache: cache, database: db.app).run() }
            try await eventually { cache.isListening }
            try await body()
            group.cancelAll()
        }
    }

    /// Waits up to ten seconds (a loaded machine) for a notice to arrive; in practice it takes a few milliseconds.
    static func eventually(_ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while try await !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("the condition did not hold within ten seconds")
                return
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// A statement as the superuser with triggers off: a change nobody announces.
    static func superuser(_ db: TestDatabase, _ sql: String) async throws {
        try await withPostgresClient(try TestDatabase.superuserURL.with(database: db.name), logger: TestDatabase.logger) { client in
            try await client.withConnection { connection in
                try await connection.query("SET session_replication_role = replica", logger: TestDatabase.logger)
                try await connection.query(PostgresQuery(unsafeSQL: sql), logger: TestDatabase.logger)
            }
        }
    }
}
