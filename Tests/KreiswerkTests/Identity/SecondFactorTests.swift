import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import Testing

@testable import Kreiswerk

/// TOTP (RFC 6238) per user, and tenants that require it.
@Suite struct SecondFactorTests {
    @Test func codesFollowRFC6238() {
        // RFC 6238 appendix B, SHA-1: secret "12345678901234567890", T = 59 s → 94287082 (8 digits) → last 6 digits.
        #expect(SecondFactor.code(secret: "12345678901234567890", at: Date(timeIntervalSince1970: 59)) == "287082")
        #expect(SecondFactor.code(secret: "12345678901234567890", at: Date(timeIntervalSince1970: 1_111_111_109)) == "081804")
        let secret = SecondFactor.newSecret()
        let now = Date(timeIntervalSince1970: 1_800_000_015)  // step 60_000_000
        // The matched step comes back, so that the caller can refuse it the next time.
        #expect(SecondFactor.verify(SecondFactor.code(secret: secret, at: now), secret: secret, at: now) == 60_000_000)
        #expect(SecondFactor.verify(SecondFactor.code(secret: secret, at: now.addingTimeInterval(-30)), secret: secret, at: now) == 59_999_999)
        #expect(SecondFactor.verify(SecondFactor.code(secret: secret, at: now.addingTimeInterval(30)), secret: secret, at: now) == 60_000_001)
        #expect(SecondFactor.verify(SecondFactor.code(secret: secret, at: now.addingTimeInterval(-120)), secret: secret, at: now) == nil)
        #expect(SecondFactor.verify("12345", secret: secret) == nil)
        #expect(SecondFactor.authenticatorURL(secret: secret, account: "a@b.de").hasPrefix("otpauth://totp/"))
    }

    /// Sets up TOTP through the account page and returns the secret.
    func setUp(_ browser: inout WebBrowser, _ email: String, _ db: TestDatabase, _ client: some TestClientProtocol) async throws -> String {
        _ = try await browser.signIn(email, client)
        _ = try await browser.get("/konto", client)
        #expect(try await browser.post("/konto/zweiter-faktor", [], client).status == .seeOther)
        let page = try await browser.get("/konto", client)
        #expect(page.text.contains("id=\"totp-secret\""))
        let secret = try await Self.storedSecret(email, db)
        #expect(page.text.contains(SecondFactor.typedSecret(secret)))
        let wrong = try await browser.post("/konto/zweiter-faktor/bestaetigen", [("code", "000000")], client)
        #expect(wrong.status == .unprocessableContent)
        let confirmed = try await browser.post("/konto/zweiter-faktor/bestaetigen", [("code", SecondFactor.code(secret: secret))], client)
        #expect(confirmed.status == .seeOther)
        return secret
    }

    @Test func signingInAsksForTheCodeOnceItIsSetUp() async throws {
        try await TestApp.with { db, people, client in
            let email = people["wittenCM"].email
            var browser = WebBrowser()
            let secret = try await setUp(&browser, email, db, client)

            // Web: the password leads to the code page; the session is not signed in until the code is right.
            var fresh = WebBrowser()
            let first = try await fresh.signIn(email, client)
            #expect(first.headers[.location] == "/anmelden/zweiter-faktor")
            let halfway = try #require(fresh.cookies["kw_session"])
            #expect(try await fresh.get("/", client).headers[.location] == "/anmelden/zweiter-faktor")
            _ = try await fresh.get("/anmelden/zweiter-faktor", client)
            #expect(try await fresh.post("/anmelden/zweiter-faktor", [("code", "123456")], client).status == .unprocessableContent)
            let done = try await fresh.post(
                "/anmelden/zweiter-faktor",
                [("code", SecondFactor.code(secret: secret, at: Date().addingTimeInterval(30)))],
                client
            )
            #expect(done.headers[.location] == "/")
            #expect(fresh.cookies["kw_session"] != halfway, "a new session id once the second factor is passed")
            #expect(try await fresh.get("/", client).status == .ok)

            // API: the code goes with the login.
            let without = try await client.api(
                .post,
                "/api/v1/auth/login",
                token: nil,
                json: #"{"email":"\#(email)","password":"\#(TestApp.password)"}"#
            )
            #expect(without.status == .unprocessableContent)
            #expect((without.object["errors"] as? [String: String])?["totp"] != nil)
            // Each code signs in once: the one used on the page is spent, so forget it (as the next step would).
            try await Self.forgetUsedCodes(email, db)
            let with = try await client.api(.post, "/api/v1/auth/login", token: nil, json: Self.login(email, code: SecondFactor.code(secret: secret)))
            #expect(with.status == .ok)
            #expect((with.object["user"] as? [String: Any])?["second_factor_enabled"] as? Bool == true)
        }
    }

    /// The account's secret as the database holds it (sealed), opened with the tests' key.
    static func storedSecret(_ email: String, _ db: TestDatabase) async throws -> String {
        let (id, sealed) = try await db.owner.withTransaction { connection in
            try await connection.query("SELECT id, totp_secret FROM users WHERE email = \(email)", logger: TestDatabase.logger).collect().first!
                .decode((UUID, String).self)
        }
        #expect(sealed.hasPrefix("kw1:\(TestApp.totpKeys.currentKeyID):"), "sealed in the database: \(sealed)")
        return try TestApp.totpKeys.open(sealed, account: id).secret
    }

    static func login(_ email: String, code: String) -> String {
        #"{"email":"\#(email)","password":"\#(TestApp.password)","totp":"\#(code)"}"#
    }

    static func forgetUsedCodes(_ email: String, _ db: TestDatabase) async throws {
        try await db.owner.withTransaction { connection in
            try await connection.query("UPDATE users SET totp_last_step = NULL WHERE email = \(email)", logger: TestDatabase.logger)
        }
    }

    /// A code signs in once: again through the API or through the page, it is refused.
    @Test func aCodeIsAcceptedOnlyOnce() async throws {
        try await TestApp.with { db, people, client in
            let email = people["wittenCM"].email
            var browser = WebBrowser()
            let secret = try await setUp(&browser, email, db, client)
            // The confirmation used the current step; the next one is still accepted (clock drift) and not used yet.
            let code = SecondFactor.code(secret: secret, at: Date().addingTimeInterval(30))
            #expect(try await client.api(.post, "/api/v1/auth/login", token: nil, json: Self.login(email, code: code)).status == .ok)
            let again = try await client.api(.post, "/api/v1/auth/login", token: nil, json: Self.login(email, code: code))
            #expect(again.status == .unprocessableContent)
            #expect((again.object["errors"] as? [String: String])?["totp"]?.contains("schon verwendet") == true)

            var fresh = WebBrowser()
            #expect(try await fresh.signIn(email, client).headers[.location] == "/anmelden/zweiter-faktor")
            _ = try await fresh.get("/anmelden/zweiter-faktor", client)
            let page = try await fresh.post("/anmelden/zweiter-faktor", [("code", code)], client)
            #expect(page.status == .unprocessableContent)
            #expect(page.text.contains("schon verwendet"))
        }
    }

    /// Parallel sign-ins with one code: exactly one gets through.
    @Test func aCodeSentInParallelSignsInOnce() async throws {
        try await TestApp.with { db, people, client in
            let email = people["wittenLead"].email
            var browser = WebBrowser()
            let secret = try await setUp(&browser, email, db, client)
            let code = SecondFactor.code(secret: secret, at: Date().addingTimeInterval(30))
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<4 {
                    group.addTask { try await client.api(.post, "/api/v1/auth/login", token: nil, json: Self.login(email, code: code)).status }
                }
                return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .ok }.count == 1, "\(statuses)")
            #expect(statuses.filter { $0 == .unprocessableContent }.count == 3, "\(statuses)")
        }
    }

    /// A database dump alone mints no codes: secrets are sealed with a key kept outside the database and bound to their
    /// account. After a rotation the old key still opens; a secret is sealed anew with the current key at its next use,
    /// or by `users rotate-totp-key` (OperatorAccounts.resealSecondFactors), which also seals plain secrets from before 0018.
    @Test func secretsAreSealedAndTheKeyRotates() async throws {
        let old = try SecretBox(current: "a3JlaXN3ZXJrLW9sZC10ZXN0LWtleS1yZXRpcmVkISE=")
        let rotated = try SecretBox(current: "a3JlaXN3ZXJrLXRlc3Qta2V5LW5vdC1hLXNlY3JldCE=", older: ["a3JlaXN3ZXJrLW9sZC10ZXN0LWtleS1yZXRpcmVkISE="])
        let account = UUID()
        let sealed = try old.seal("GEHEIMGEHEIMGEHEIM23", account: account)
        #expect(!sealed.contains("GEHEIM"))
        #expect(throws: SecretBox.Failure.self, "bound to its account") { try old.open(sealed, account: UUID()) }
        #expect(throws: SecretBox.Failure.self, "the old key is not configured") { try TestApp.totpKeys.open(sealed, account: account) }
        #expect(try rotated.open(sealed, account: account).secret == "GEHEIMGEHEIMGEHEIM23")
        #expect(try rotated.open(sealed, account: account).stale)
        #expect(try !rotated.open(rotated.seal("X", account: account), account: account).stale)
        #expect(throws: ConfigurationError.self) { try SecretBox.fromEnvironment([:]) }
        #expect(throws: ConfigurationError.self) { try SecretBox.fromEnvironment(["KREISWERK_TOTP_KEY": "zu-kurz"]) }

        try await TestApp.with({ $0.totpKeys = rotated }) { db, people, client in
            // Witten's case manager from before 0018 (plain), the others sealed with the old key.
            var secrets: [String: String] = [:]
            for name in ["wittenCM", "wittenLead", "hattingenCM"] {
                let person = people[name]
                let secret = SecondFactor.newSecret()
                let stored = name == "wittenCM" ? secret : try old.seal(secret, account: person.id)
                try await db.owner.withTransaction { connection in
                    try await connection.query(
                        "UPDATE users SET totp_secret = \(stored), totp_enabled_at = now() WHERE id = \(person.id)",
                        logger: TestDatabase.logger
                    )
                }
                secrets[name] = secret
            }
            for name in ["wittenCM", "wittenLead"] {
                let login = Self.login(people[name].email, code: SecondFactor.code(secret: secrets[name]!))
                #expect(try await client.api(.post, "/api/v1/auth/login", token: nil, json: login).status == .ok)
                #expect(try await Self.storedSecret(people[name].email, db) == secrets[name], "sealed anew at its use")
            }
            let (resealed, total) = try await OperatorAccounts(database: db.owner).resealSecondFactors(with: rotated)
            #expect((resealed, total) == (1, 3))
            #expect(try await Self.storedSecret(people["hattingenCM"].email, db) == secrets["hattingenCM"])
            #expect(try await OperatorAccounts(database: db.owner).resealSecondFactors(with: rotated) == (0, 3))
        }
    }

    /// Password hashes and TOTP secrets are not data the runtime role can read, not even of its own tenant.
    @Test func secretsAreNotSelectableByTheRuntimeRole() async throws {
        try await TestApp.with { db, people, _ in
            // A tenant administrator reads their tenant's accounts, a coordinator (acting with the district) the district's.
            for column in ["password_hash", "totp_secret"] {
                for name in ["wittenAdmin", "coordinator"] {
                    let person = people[name]
                    let tenant = try await db.owner.withTransaction { connection in
                        try await connection.query("SELECT id FROM tenants WHERE slug = \(person.tenant)", logger: TestDatabase.logger).collect()
                            .first!
                            .decode(UUID.self)
                    }
                    await #expect(throws: PSQLError.self, "\(column) as \(name)") {
                        try await db.app.withTenant(tenant, user: person.id, district: name == "coordinator" ? tenant : nil) { connection in
                            _ = try await connection.query(PostgresQuery(unsafeSQL: "SELECT \(column) FROM users"), logger: TestDatabase.logger)
                                .collect()
                        }
                    }
                }
            }
        }
    }

    @Test func aTenantCanRequireItForAllItsUsers() async throws {
        try await TestApp.with { db, people, client in
            let admin = people["wittenAdmin"].token
            // The tenant's admin must have a second factor before requiring one of everybody.
            let tooEarly = try await client.api(.put, "/api/v1/tenants/witten/security", token: admin, json: #"{"second_factor_required":true}"#)
            #expect(tooEarly.status == .unprocessableContent)
            let platform = people["platform"].token
            let set = try await client.api(.put, "/api/v1/tenants/witten/security", token: platform, json: #"{"second_factor_required":true}"#)
            #expect(set.status == .ok)
            #expect(try await client.api(.get, "/api/v1/tenants/witten/security", token: platform).object["second_factor_required"] as? Bool == true)
            // Until they set it up, Witten's users reach only their own account.
            let lead = people["wittenLead"].token
            #expect(try await client.api(.get, "/api/v1/me", token: lead).object["second_factor_required"] as? Bool == true)
            let refused = try await client.api(.get, "/api/v1/tenants", token: lead)
            #expect(refused.status == .forbidden)
            #expect((refused.object["detail"] as? String)?.contains("zweiten Faktor") == true)
            var browser = WebBrowser()
            _ = try await browser.signIn(people["wittenLead"].email, client)
            #expect(try await browser.get("/", client).headers[.location] == "/konto?zweiter-faktor=erforderlich")
            #expect(try await browser.get("/konto", client).status == .ok)
            _ = try await setUp(&browser, people["wittenLead"].email, db, client)
            #expect(try await browser.get("/", client).status == .ok)
            // Hattingen is not affected.
            #expect(try await client.api(.get, "/api/v1/tenants", token: people["hattingenCM"].token).status == .ok)
        }
    }
}
