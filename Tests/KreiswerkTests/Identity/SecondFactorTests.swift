import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Kreiswerk

/// TOTP (RFC 6238) per user, and tenants that require it.
@Suite struct SecondFactorTests {
    @Test func codesFollowRFC6238() {
        // RFC 6238 appendix B, SHA-1: secret "12345678901234567890", T = 59 s → 94287082 (8 digits) → last 6 digits.
        #expect(SecondFactor.code(secret: "12345678901234567890", at: Date(timeIntervalSince1970: 59)) == "287082")
        #expect(SecondFactor.code(secret: "12345678901234567890", at: Date(timeIntervalSince1970: 1_111_111_109)) == "081804")
        let secret = SecondFactor.newSecret()
        let now = Date()
        #expect(SecondFactor.verify(SecondFactor.code(secret: secret, at: now), secret: secret, at: now))
        #expect(SecondFactor.verify(SecondFactor.code(secret: secret, at: now.addingTimeInterval(-30)), secret: secret, at: now))
        #expect(!SecondFactor.verify(SecondFactor.code(secret: secret, at: now.addingTimeInterval(-120)), secret: secret, at: now))
        #expect(!SecondFactor.verify("12345", secret: secret))
        #expect(SecondFactor.authenticatorURL(secret: secret, account: "a@b.de").hasPrefix("otpauth://totp/"))
    }

    /// Sets up TOTP through the account page and returns the secret.
    func setUp(_ browser: inout WebBrowser, _ email: String, _ db: TestDatabase, _ client: some TestClientProtocol) async throws -> String {
        _ = try await browser.signIn(email, client)
        _ = try await browser.get("/konto", client)
        #expect(try await browser.post("/konto/zweiter-faktor", [], client).status == .seeOther)
        let page = try await browser.get("/konto", client)
        #expect(page.text.contains("id=\"totp-secret\""))
        let secret = try await db.owner.withTransaction { connection in
            try await connection.query("SELECT totp_secret FROM users WHERE email = \(email)", logger: TestDatabase.logger).collect().first!.decode(String.self)
        }
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
            let done = try await fresh.post("/anmelden/zweiter-faktor", [("code", SecondFactor.code(secret: secret))], client)
            #expect(done.headers[.location] == "/")
            #expect(fresh.cookies["kw_session"] != halfway, "a new session id once the second factor is passed")
            #expect(try await fresh.get("/", client).status == .ok)

            // API: the code goes with the login.
            let without = try await client.api(.post, "/api/v1/auth/login", token: nil, json: #"{"email":"\#(email)","password":"\#(TestApp.password)"}"#)
            #expect(without.status == .unprocessableContent)
            #expect((without.object["errors"] as? [String: String])?["totp"] != nil)
            let with = try await client.api(
                .post, "/api/v1/auth/login", token: nil, json: #"{"email":"\#(email)","password":"\#(TestApp.password)","totp":"\#(SecondFactor.code(secret: secret))"}"#)
            #expect(with.status == .ok)
            #expect((with.object["user"] as? [String: Any])?["second_factor_enabled"] as? Bool == true)
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
