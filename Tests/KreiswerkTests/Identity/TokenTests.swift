import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Kreiswerk

/// Bearer tokens: login and logout, personal access tokens, only hashes stored.
@Suite struct TokenTests {
    @Test func loginTokenWorksUntilLogout() async throws {
        try await TestApp.with { db, people, client in
            let login = try await client.api(
                .post,
                "/api/v1/auth/login",
                token: nil,
                json: #"{"email":"\#(people["wittenCM"].email)","password":"\#(TestApp.password)"}"#
            )
            #expect(login.status == .ok)
            let token = try #require(login.object["token"] as? String)
            #expect(login.object["token_type"] as? String == "Bearer")
            #expect((login.object["user"] as? [String: Any])?["email"] as? String == people["wittenCM"].email)
            #expect(try await client.api(.get, "/api/v1/me", token: token).status == .ok)
            // Only the digest is stored.
            let stored = try await db.owner.withTransaction { connection in
                try await connection.query(
                    "SELECT count(*)::integer FROM api_tokens WHERE token_hash = \(Secret.digest(token))",
                    logger: TestDatabase.logger
                ).collect().first!.decode(Int.self)
            }
            #expect(stored == 1)
            let plain = try await db.owner.withTransaction { connection in
                try await connection.query(
                    "SELECT count(*)::integer FROM api_tokens WHERE encode(token_hash, 'escape') LIKE '%kwt_%'",
                    logger: TestDatabase.logger
                ).collect().first!.decode(Int.self)
            }
            #expect(plain == 0)
            #expect(try await client.api(.post, "/api/v1/auth/logout", token: token).status == .noContent)
            let after = try await client.api(.get, "/api/v1/me", token: token)
            #expect(after.status == .unauthorized)
            #expect(after.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
        }
    }

    @Test func personalTokensAreCreatedListedAndRevoked() async throws {
        try await TestApp.with { _, people, client in
            let owner = people["wittenAdmin"].token
            let created = try await client.api(
                .post,
                "/api/v1/tokens",
                token: owner,
                json: #"{"name":"Fachverfahren","expires_in_days":30,"password":"\#(TestApp.password)"}"#
            )
            #expect(created.status == .created)
            let secret = try #require(created.object["secret"] as? String)
            #expect(secret.hasPrefix("kwp_"))
            let id = try #require((created.object["token"] as? [String: Any])?["id"] as? String)
            #expect(try await client.api(.get, "/api/v1/me", token: secret).status == .ok)
            let listed = try await client.api(.get, "/api/v1/tokens", token: owner).array.compactMap { $0["name"] as? String }
            #expect(listed.sorted() == ["Fachverfahren", "tests"])
            // Somebody else's token cannot be revoked by id.
            #expect(try await client.api(.delete, "/api/v1/tokens/\(id)", token: people["wittenCM"].token).status == .notFound)
            #expect(try await client.api(.get, "/api/v1/me", token: secret).status == .ok)
            #expect(try await client.api(.delete, "/api/v1/tokens/\(id)", token: owner).status == .noContent)
            #expect(try await client.api(.get, "/api/v1/me", token: secret).status == .unauthorized)
            let invalid = try await client.api(
                .post,
                "/api/v1/tokens",
                token: owner,
                json: #"{"name":"x","expires_in_days":999,"password":"\#(TestApp.password)"}"#
            )
            #expect(invalid.status == .unprocessableContent)
            #expect((invalid.object["errors"] as? [String: String])?["expires_in_days"] != nil)
        }
    }

    /// Seconds from now until an ISO 8601 instant of an answer.
    static func secondsUntil(_ value: Any?) throws -> Double {
        try Date(try #require(value as? String), strategy: .iso8601).timeIntervalSinceNow
    }

    @Test func everyPersonalTokenEndsAndNeedsThePasswordAgain() async throws {
        try await TestApp.with { db, people, client in
            let login = try await client.api(
                .post,
                "/api/v1/auth/login",
                token: nil,
                json: #"{"email":"\#(people["wittenCM"].email)","password":"\#(TestApp.password)"}"#
            )
            let loginToken = try #require(login.object["token"] as? String)
            // A 12-hour login token alone no longer makes a personal token.
            let without = try await client.api(.post, "/api/v1/tokens", token: loginToken, json: #"{"name":"Fachverfahren"}"#)
            #expect(without.status == .badRequest)
            #expect((without.object["detail"] as? String)?.contains("password") == true)
            let wrong = try await client.api(.post, "/api/v1/tokens", token: loginToken, json: #"{"name":"Fachverfahren","password":"geraten-123"}"#)
            #expect(wrong.status == .unprocessableContent)
            #expect((wrong.object["errors"] as? [String: String])?["password"] != nil)

            // Without a lifetime: 90 days; at most 365; a longer one is a 422 naming the maximum.
            let standard = try await client.api(
                .post,
                "/api/v1/tokens",
                token: loginToken,
                json: #"{"name":"Fachverfahren","password":"\#(TestApp.password)"}"#
            )
            #expect(standard.status == .created, "\(standard.text)")
            let days = try Self.secondsUntil((standard.object["token"] as? [String: Any])?["expires_at"]) / 86_400
            #expect(days > 89.9 && days <= 90)
            let longest = try await client.api(
                .post,
                "/api/v1/tokens",
                token: loginToken,
                json: #"{"name":"Jahr","expires_in_days":365,"password":"\#(TestApp.password)"}"#
            )
            #expect(longest.status == .created)
            let tooLong = try await client.api(
                .post,
                "/api/v1/tokens",
                token: loginToken,
                json: #"{"name":"Ewig","expires_in_days":366,"password":"\#(TestApp.password)"}"#
            )
            #expect(tooLong.status == .unprocessableContent)
            #expect((tooLong.object["errors"] as? [String: String])?["expires_in_days"]?.contains("365") == true)

            // The command line has the same default and maximum.
            let operators = OperatorAccounts(database: db.owner)
            let (cli, _) = try await operators.createToken(email: people["wittenCM"].email, name: "cli", expiresInDays: nil)
            #expect(abs(try #require(cli.expiresAt).timeIntervalSinceNow - 90 * 86_400) < 60)
            await #expect(throws: InvalidInput.self) {
                try await operators.createToken(email: people["wittenCM"].email, name: "cli", expiresInDays: 400)
            }
            // And the database keeps no token without an end.
            let open = try await db.owner.withTransaction { connection in
                try await connection.query("SELECT count(*)::integer FROM api_tokens WHERE expires_at IS NULL", logger: TestDatabase.logger).collect()
                    .first!.decode(Int.self)
            }
            #expect(open == 0)
        }
    }

    @Test func anAccountWithASecondFactorGivesItsCodeToo() async throws {
        try await TestApp.with { db, people, client in
            let account = people["wittenLead"]
            var browser = WebBrowser()
            let secret = try await SecondFactorTests().setUp(&browser, account.email, db, client)
            let body = #"{"name":"Fachverfahren","password":"\#(TestApp.password)""#
            let without = try await client.api(.post, "/api/v1/tokens", token: account.token, json: body + "}")
            #expect(without.status == .unprocessableContent)
            #expect((without.object["errors"] as? [String: String])?["totp"] != nil)
            // The next step's code: the current one may have just confirmed the setup.
            let code = SecondFactor.code(secret: secret, at: Date().addingTimeInterval(30))
            let with = try await client.api(.post, "/api/v1/tokens", token: account.token, json: body + #","totp":"\#(code)"}"#)
            #expect(with.status == .created, "\(with.text)")
        }
    }

    @Test func aPasswordResetOrChangeEndsEveryToken() async throws {
        try await TestApp.with { db, people, client in
            // An administrator's reset (kreiswerk users reset-password) ends personal and login tokens.
            let cm = people["wittenCM"]
            let login = try await client.api(
                .post,
                "/api/v1/auth/login",
                token: nil,
                json: #"{"email":"\#(cm.email)","password":"\#(TestApp.password)"}"#
            )
            let loginToken = try #require(login.object["token"] as? String)
            #expect(try await client.api(.get, "/api/v1/me", token: cm.token).status == .ok)
            try await OperatorAccounts(database: db.owner, passwords: Passwords(cost: 4)).resetPassword(
                email: cm.email,
                password: "ein-ganz-neues-passwort"
            )
            #expect(try await client.api(.get, "/api/v1/me", token: cm.token).status == .unauthorized)
            #expect(try await client.api(.get, "/api/v1/me", token: loginToken).status == .unauthorized)

            // The user's own change ends the other sessions and every token; the page says so; this session stays.
            let lead = people["wittenLead"]
            var other = WebBrowser()
            _ = try await other.signIn(lead.email, client)
            var browser = WebBrowser()
            _ = try await browser.signIn(lead.email, client)
            _ = try await browser.get("/konto", client)
            let changed = try await browser.post(
                "/konto/passwort",
                [("current_password", TestApp.password), ("new_password", "ganz-neues-passwort"), ("new_password_repeat", "ganz-neues-passwort")],
                client
            )
            #expect(changed.status == .seeOther)
            let page = try await browser.get(try #require(changed.headers[.location]), client)
            #expect(page.status == .ok)
            #expect(page.text.contains("alle seine Zugriffstokens sind beendet"))
            #expect(try await client.api(.get, "/api/v1/me", token: lead.token).status == .unauthorized)
            #expect(try await other.get("/", client).status == .seeOther)
        }
    }

    @Test func theAccountPageListsCreatesAndRevokesTokens() async throws {
        try await TestApp.with { _, people, client in
            let admin = people["wittenAdmin"]
            var browser = WebBrowser()
            _ = try await browser.signIn(admin.email, client)
            let page = try await browser.get("/konto", client)
            #expect(page.text.contains("<td>tests</td>"))
            #expect(page.text.contains("noch nie"), "the fixture's token was never used through a request yet")

            let wrong = try await browser.post(
                "/konto/tokens",
                [("name", "Fachverfahren"), ("expires_in_days", "30"), ("password", "falsch-falsch")],
                client
            )
            #expect(wrong.status == .unprocessableContent)
            #expect(wrong.text.contains("id=\"password-error\""))
            let tooLong = try await browser.post(
                "/konto/tokens",
                [("name", "Fachverfahren"), ("expires_in_days", "400"), ("password", TestApp.password)],
                client
            )
            #expect(tooLong.status == .unprocessableContent)
            #expect(tooLong.text.contains("höchstens 365 Tage"))

            let created = try await browser.post(
                "/konto/tokens",
                [("name", "Fachverfahren"), ("expires_in_days", "30"), ("password", TestApp.password)],
                client
            )
            #expect(created.status == .ok)
            let range = try #require(created.text.range(of: #"<code id="new-token">(kwp_[^<]+)</code>"#, options: .regularExpression))
            let secret = String(created.text[range].dropFirst(#"<code id="new-token">"#.count).dropLast("</code>".count))
            #expect(try await client.api(.get, "/api/v1/me", token: secret).status == .ok)
            let id = try #require(
                try await client.api(.get, "/api/v1/tokens", token: secret).array.first { $0["name"] as? String == "Fachverfahren" }?["id"] as? String
            )
            .lowercased()

            // Revoking asks for a confirmation in the form, then says what it did.
            _ = try await browser.get("/konto", client)
            let unconfirmed = try await browser.post("/konto/tokens/\(id)/widerrufen", [], client)
            #expect(unconfirmed.status == .unprocessableContent)
            #expect(unconfirmed.text.contains("id=\"confirm-\(id)-error\""))
            #expect(try await client.api(.get, "/api/v1/me", token: secret).status == .ok)
            let revoked = try await browser.post("/konto/tokens/\(id)/widerrufen", [("confirm", "1")], client)
            #expect(revoked.status == .ok)
            #expect(revoked.text.contains("Der Token „Fachverfahren“ ist widerrufen"))
            #expect(!revoked.text.contains("data-token=\"\(id)\""))
            #expect(try await client.api(.get, "/api/v1/me", token: secret).status == .unauthorized)
            // Somebody else's token is not found.
            _ = try await browser.get("/konto", client)
            #expect(try await browser.post("/konto/tokens/\(UUID())/widerrufen", [("confirm", "1")], client).status == .notFound)
        }
    }

    @Test func malformedBodiesGetA400ThatSaysWhatIsWrong() async throws {
        try await TestApp.with { _, _, client in
            let broken = try await client.api(.post, "/api/v1/auth/login", token: nil, json: "{not json")
            #expect(broken.status == .badRequest)
            let missing = try await client.api(.post, "/api/v1/auth/login", token: nil, json: #"{"email":"a@b.de"}"#)
            #expect(missing.status == .badRequest)
            #expect((missing.object["detail"] as? String)?.contains("password") == true)
        }
    }

    @Test func deactivatingAnAccountEndsItsTokensAndSessions() async throws {
        try await TestApp.with { _, people, client in
            let target = people["wittenLead"]
            var browser = WebBrowser()
            _ = try await browser.signIn(target.email, client)
            let patch = try await client.api(
                .patch,
                "/api/v1/users/\(target.id)",
                token: people["wittenAdmin"].token,
                json: #"{"active":false}"#,
                headers: [.ifMatch: "\"1\""]
            )
            #expect(patch.status == .ok)
            #expect(patch.object["active"] as? Bool == false)
            #expect(try await client.api(.get, "/api/v1/me", token: target.token).status == .unauthorized)
            #expect(try await browser.get("/", client).status == .seeOther)
            var again = WebBrowser()
            #expect(try await again.signIn(target.email, client).status == .unauthorized)
        }
    }
}
