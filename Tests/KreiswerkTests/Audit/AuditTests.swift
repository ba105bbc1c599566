import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import Testing

@testable import Kreiswerk

/// The audit trail: what is written, who reads it, and that tampering is detected.
@Suite struct AuditTests {
    func actions(_ db: TestDatabase) async throws -> [(String, String?)] {
        try await db.owner.withTransaction { connection in
            try await connection.query(
                "SELECT a.action, t.slug FROM audit_log a LEFT JOIN tenants t ON t.id = a.tenant_id ORDER BY a.id",
                logger: TestDatabase.logger
            ).collect().map { try $0.decode((String, String?).self) }
        }
    }

    @Test func theEventsOfIdentityAndAccessAreRecorded() async throws {
        try await TestApp.with { db, people, client in
            var browser = WebBrowser()
            _ = try await browser.signIn(people["wittenCM"].email, password: "falsch-falsch", client)
            _ = try await browser.signIn("niemand@nirgends.test", password: "falsch-falsch", client)
            _ = try await browser.signIn(people["wittenCM"].email, client)
            _ = try await browser.get("/", client)
            _ = try await browser.post("/abmelden", [], client)
            _ = try await client.api(.post, "/api/v1/tenants", token: people["platform"].token, json: OnboardingTests.diakonie)
            _ = try await client.api(
                .patch,
                "/api/v1/users/\(people["wittenLead"].id)",
                token: people["wittenAdmin"].token,
                json: #"{"roles":["team_lead","case_manager"]}"#,
                headers: [.ifMatch: "\"1\""]
            )
            _ = try await client.api(
                .patch,
                "/api/v1/users/\(people["wittenLead"].id)",
                token: people["wittenAdmin"].token,
                json: #"{"active":false}"#,
                headers: [.ifMatch: "\"2\""]
            )
            _ = try await client.api(
                .post,
                "/api/v1/tokens",
                token: people["hattingenCM"].token,
                json: #"{"name":"x","password":"\#(TestApp.password)"}"#
            )
            let recorded = try await actions(db)
            func has(_ action: String, _ tenant: String?) -> Bool { recorded.contains { $0.0 == action && $0.1 == tenant } }
            #expect(has("auth.sign_in_failed", "witten"))
            #expect(has("auth.sign_in_failed", nil), "an unknown address is a platform event")
            #expect(has("auth.sign_in", "witten"))
            #expect(has("auth.sign_out", "witten"))
            #expect(has("tenant.onboarded", "betrieb"))
            #expect(has("user.created", "diakonie-mark-ruhr"))
            #expect(has("user.roles_changed", "witten"))
            #expect(has("user.deactivated", "witten"))
            #expect(has("token.created", "hattingen"))
            // Nothing secret goes into the trail.
            let details = try await db.owner.withTransaction { connection in
                try await connection.query("SELECT string_agg(detail::text, ' ') FROM audit_log", logger: TestDatabase.logger).collect().first!
                    .decode(String.self)
            }
            #expect(!details.contains(TestApp.password))
            #expect(!details.contains("falsch-falsch"))
        }
    }

    @Test func theRuntimeRoleCanAppendButNeverChangeOrDelete() async throws {
        try await TestDatabase.with { db in
            try await db.app.withTransaction { connection in
                try await AuditLog.record(AuditEvent("test.appended", tenant: nil, actor: nil), on: connection, logger: TestDatabase.logger)
            }
            for statement in ["UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log", "TRUNCATE audit_log"] {
                let error = await #expect(throws: PSQLError.self) {
                    try await db.app.withTransaction { try await $0.query(PostgresQuery(unsafeSQL: statement), logger: TestDatabase.logger) }
                }
                #expect(error?.sqlState == "42501", "\(statement)")
            }
            // Even the owner cannot rewrite an entry: the trigger refuses.
            let owner = await #expect(throws: PSQLError.self) {
                try await db.owner.withTransaction { try await $0.query("UPDATE audit_log SET detail = '{}'", logger: TestDatabase.logger) }
            }
            #expect(owner?.sqlState == "42501")
        }
    }

    @Test func anEntryKeepsItsDetailAndItsTenantStays() async throws {
        try await TestDatabase.with { db in
            let tenant = try await db.owner.withTransaction { connection in
                try await connection.query("SELECT id FROM tenants ORDER BY slug LIMIT 1", logger: TestDatabase.logger).collect().first!.decode(
                    UUID.self
                )
            }
            let detail = ["quote": #"Sie sagte: "nein" \ ja"#, "umlaut": "Müller/Öztürk", "line": "a\nb\u{1}", "": "leer"]
            try await db.app.withTenant(tenant) { connection in
                try await AuditLog.record(
                    AuditEvent("test.detail", tenant: tenant, actor: nil, detail: detail),
                    on: connection,
                    logger: TestDatabase.logger
                )
            }
            let stored = try await db.owner.withTransaction { connection in
                try await connection.query("SELECT detail::text FROM audit_log WHERE action = 'test.detail'", logger: TestDatabase.logger)
                    .collect().first!.decode(String.self)
            }
            #expect(try JSONDecoder().decode([String: String].self, from: Data(stored.utf8)) == detail)
            // The trail refers to its tenants without a foreign key (that locked the tenant's row on every
            // append): tenants are deactivated, never deleted.
            let error = await #expect(throws: PSQLError.self) {
                try await db.owner.withTransaction { try await $0.query("DELETE FROM tenants WHERE id = \(tenant)", logger: TestDatabase.logger) }
            }
            #expect(error?.sqlState == "23001")
        }
    }

    /// What someone with the superuser's password could do behind the application's back: triggers off, then a statement.
    func tamper(_ superuser: DatabaseURL, _ statement: String) async throws {
        try await withPostgresClient(superuser, logger: TestDatabase.logger) { client in
            try await client.withConnection { connection in
                try await connection.query("SET session_replication_role = replica", logger: TestDatabase.logger)
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: TestDatabase.logger)
            }
        }
    }

    @Test func verifyFindsTheFirstChangedOrMissingEntry() async throws {
        try await TestDatabase.with { db in
            try await db.app.withTransaction { connection in
                for index in 1...5 {
                    try await AuditLog.record(
                        AuditEvent("test.entry", tenant: nil, actor: nil, detail: ["n": "\(index)"]),
                        on: connection,
                        logger: TestDatabase.logger
                    )
                }
            }
            let chain = AuditChain(database: db.owner)
            let pending = try await chain.verify()
            #expect(pending.pending == 5)
            #expect(pending.sealed == 0)
            #expect(try await AuditChain(database: db.worker).seal() == 5)
            let intact = try await chain.verify()
            #expect(intact.isIntact)
            #expect(intact.sealed == 5)
            #expect(intact.pending == 0)
            #expect(intact.head?.count == 64)

            let superuser = try TestDatabase.superuserURL.with(database: db.name)
            try await tamper(superuser, "UPDATE audit_log SET detail = '{\"n\": \"forged\"}' WHERE seq = 3")
            let changed = try await chain.verify()
            #expect(changed.firstBroken?.seq == 3)
            #expect(changed.firstBroken?.reason.contains("changed") == true)
            #expect(changed.description.contains("BROKEN at entry #3"))

            try await tamper(superuser, "UPDATE audit_log SET detail = '{\"n\": \"3\"}' WHERE seq = 3")
            #expect(try await chain.verify().isIntact, "restored")
            try await tamper(superuser, "DELETE FROM audit_log WHERE seq = 2")
            let missing = try await chain.verify()
            #expect(missing.firstBroken?.seq == 2)
            #expect(missing.firstBroken?.reason.contains("missing") == true)
        }
    }

    @Test func eachAdministratorReadsTheirOwnScope() async throws {
        try await TestApp.with { _, people, client in
            var browser = WebBrowser()
            _ = try await browser.signIn(people["wittenCM"].email, client)
            _ = try await browser.signIn(people["hattingenCM"].email, client)
            func tenants(_ who: String, _ query: String = "") async throws -> Set<String> {
                Set(try await client.api(.get, "/api/v1/audit\(query)", token: people[who].token).array.map { $0["tenant"] as? String ?? "-" })
            }
            #expect(try await tenants("wittenAdmin") == ["witten"])
            #expect(try await tenants("hattingenAdmin") == ["hattingen"])
            #expect(try await client.api(.get, "/api/v1/audit?tenant=witten", token: people["hattingenAdmin"].token).status == .notFound)
            let district = try await tenants("coordinator")
            #expect(district.isSuperset(of: ["witten", "hattingen", "en-kreis"]))
            #expect(!district.contains("betrieb"))
            #expect(try await tenants("platform").isSuperset(of: ["witten", "hattingen", "betrieb"]))
            #expect(try await tenants("coordinator", "?tenant=witten") == ["witten"])
            let page = try await browser.get("/protokoll", client)
            #expect(page.status == .forbidden, "a case manager does not read the trail")
        }
    }
}
