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
            let login = try await client.api(.post, "/api/v1/auth/login", token: nil, json: #"{"email":"\#(people["wittenCM"].email)","password":"\#(TestApp.password)"}"#)
            #expect(login.status == .ok)
            let token = try #require(login.object["token"] as? String)
            #expect(login.object["token_type"] as? String == "Bearer")
            #expect((login.object["user"] as? [String: Any])?["email"] as? String == people["wittenCM"].email)
            #expect(try await client.api(.get, "/api/v1/me", token: token).status == .ok)
            // Only the digest is stored.
            let stored = try await db.owner.withTransaction { connection in
                try await connection.query("SELECT count(*)::integer FROM api_tokens WHERE token_hash = \(Secret.digest(token))", logger: TestDatabase.logger).collect().first!.decode(Int.self)
            }
            #expect(stored == 1)
            let plain = try await db.owner.withTransaction { connection in
                try await connection.query("SELECT count(*)::integer FROM api_tokens WHERE encode(token_hash, 'escape') LIKE '%kwt_%'", logger: TestDatabase.logger).collect().first!.decode(Int.self)
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
            let created = try await client.api(.post, "/api/v1/tokens", token: owner, json: #"{"name":"Fachverfahren","expires_in_days":30}"#)
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
            let invalid = try await client.api(.post, "/api/v1/tokens", token: owner, json: #"{"name":"x","expires_in_days":999}"#)
            #expect(invalid.status == .unprocessableContent)
            #expect((invalid.object["errors"] as? [String: String])?["expires_in_days"] != nil)
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
                .patch, "/api/v1/users/\(target.id)", token: people["wittenAdmin"].token, json: #"{"active":false}"#, headers: [.ifMatch: "\"1\""])
            #expect(patch.status == .ok)
            #expect(patch.object["active"] as? Bool == false)
            #expect(try await client.api(.get, "/api/v1/me", token: target.token).status == .unauthorized)
            #expect(try await browser.get("/", client).status == .seeOther)
            var again = WebBrowser()
            #expect(try await again.signIn(target.email, client).status == .unauthorized)
        }
    }
}
