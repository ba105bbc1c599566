import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Kreiswerk

/// The web sign-in: cookies, a new session id on every sign-in, expiry, sign-out, CSRF.
@Suite struct WebSessionTests {
    @Test func signInSetsASafeCookieAndSignOutEndsTheSession() async throws {
        try await TestApp.with { _, people, client in
            var browser = WebBrowser()
            let start = try await browser.get("/", client)
            #expect(start.status == .seeOther)
            #expect(start.headers[.location] == "/anmelden")

            let signedIn = try await browser.signIn(people["wittenCM"].email, client)
            #expect(signedIn.status == .seeOther)
            #expect(signedIn.headers[.location] == "/")
            let cookie = try #require(signedIn.headers[values: .setCookie].first { $0.hasPrefix("kw_session=") })
            #expect(cookie.contains("HttpOnly"))
            #expect(cookie.contains("SameSite=Lax"))
            #expect(!cookie.contains("Secure"), "served over plain http in tests")
            let session = try #require(browser.cookies["kw_session"])

            let page = try await browser.get("/", client)
            #expect(page.status == .ok)
            #expect(page.text.contains("<h1>Übersicht</h1>"))
            #expect(page.text.contains("data-slug=\"witten\""))
            #expect(!page.text.contains("data-slug=\"hattingen\""))

            // A second sign-in in the same browser (the form was still open) gets a new session id; the old one is dead.
            let again = try await browser.post(
                "/anmelden",
                [("email", people["wittenCM"].email), ("password", TestApp.password)],
                csrf: browser.cookies["kw_csrf"],
                client
            )
            #expect(again.status == .seeOther)
            let renewed = try #require(browser.cookies["kw_session"])
            #expect(renewed != session)
            var stale = WebBrowser(cookies: ["kw_session": session])
            #expect(try await stale.get("/", client).status == .seeOther)

            _ = try await browser.get("/", client)
            let out = try await browser.post("/abmelden", [], client)
            #expect(out.status == .seeOther)
            #expect(out.headers[.location] == "/anmelden?abgemeldet=1")
            // The browser forgot the cookie, and the server ended the session too.
            var replay = WebBrowser(cookies: ["kw_session": renewed])
            let after = try await replay.get("/", client)
            #expect(after.status == .seeOther)
            #expect(after.headers[.location] == "/anmelden")
        }
    }

    /// The browser still holds a Witten session when a Hattingen account signs in: that session ends, although
    /// row-level security hides it from a transaction acting for Hattingen.
    @Test func signingInAsSomeoneElseEndsTheOldSessionWhateverItsTenant() async throws {
        try await TestApp.with { db, people, client in
            var browser = WebBrowser()
            _ = try await browser.signIn(people["wittenCM"].email, client)
            let witten = try #require(browser.cookies["kw_session"])
            #expect(try await browser.get("/", client).status == .ok)

            let hattingen = try await browser.post(
                "/anmelden",
                [("email", people["hattingenCM"].email), ("password", TestApp.password)],
                csrf: browser.cookies["kw_csrf"],
                client
            )
            #expect(hattingen.headers[.location] == "/")
            #expect(browser.cookies["kw_session"] != witten)
            let ended = try await db.owner.withTransaction { connection in
                try await connection.query(
                    "SELECT ended_at IS NOT NULL FROM sessions WHERE token_hash = \(Secret.digest(witten))",
                    logger: TestDatabase.logger
                )
                .collect().first?.decode(Bool.self)
            }
            #expect(ended == true, "the Witten session is ended in the database")
            var stale = WebBrowser(cookies: ["kw_session": witten])
            #expect(try await stale.get("/", client).headers[.location] == "/anmelden")
        }
    }

    @Test func wrongPasswordAndUnknownAddressLookTheSame() async throws {
        try await TestApp.with { _, people, client in
            var browser = WebBrowser()
            let wrong = try await browser.signIn(people["wittenCM"].email, password: "falsches-passwort", client)
            let unknown = try await browser.signIn("niemand@witten.test", password: "falsches-passwort", client)
            #expect(wrong.status == .unauthorized)
            #expect(unknown.status == .unauthorized)
            #expect(wrong.text.contains("E-Mail-Adresse oder Passwort ist falsch."))
            #expect(unknown.text.contains("E-Mail-Adresse oder Passwort ist falsch."))
            let api1 = try await client.api(
                .post,
                "/api/v1/auth/login",
                token: nil,
                json: #"{"email":"\#(people["wittenCM"].email)","password":"falsch-falsch"}"#
            )
            let api2 = try await client.api(
                .post,
                "/api/v1/auth/login",
                token: nil,
                json: #"{"email":"niemand@witten.test","password":"falsch-falsch"}"#
            )
            #expect(api1.status == .unauthorized)
            #expect(api1.object["detail"] as? String == api2.object["detail"] as? String)
            #expect(api1.status == api2.status)
        }
    }

    @Test func formsWithoutTheRightCSRFTokenAreRefused() async throws {
        try await TestApp.with { _, people, client in
            var browser = WebBrowser()
            _ = try await browser.get("/anmelden", client)
            let forged = try await browser.post(
                "/anmelden",
                [("email", people["wittenCM"].email), ("password", TestApp.password)],
                csrf: "forged",
                client
            )
            #expect(forged.status == .forbidden)
            #expect(forged.text.contains("CSRF"))
            #expect(browser.cookies["kw_session"] == nil)

            _ = try await browser.signIn(people["wittenCM"].email, client)
            _ = try await browser.get("/konto", client)
            let change = try await browser.post(
                "/konto/passwort",
                [("current_password", TestApp.password), ("new_password", "ganz-neues-passwort"), ("new_password_repeat", "ganz-neues-passwort")],
                csrf: "",
                client
            )
            #expect(change.status == .forbidden)
            // The password is unchanged: signing in with it still works.
            var other = WebBrowser()
            #expect(try await other.signIn(people["wittenCM"].email, client).headers[.location] == "/")
        }
    }

    @Test func idleSessionsExpire() async throws {
        try await TestApp.with({ $0.lifetimes.sessionIdle = .seconds(2) }) { _, people, client in
            var browser = WebBrowser()
            let start = ContinuousClock.now
            _ = try await browser.signIn(people["wittenCM"].email, client)
            let first = try await browser.get("/", client)
            // Only meaningful if this machine did not stall for the whole idle time (seen under a parallel release build).
            if ContinuousClock.now - start < .seconds(1) { #expect(first.status == .ok) }
            try await Task.sleep(for: .milliseconds(2500))
            let expired = try await browser.get("/", client)
            #expect(expired.status == .seeOther)
            #expect(expired.headers[.location] == "/anmelden")
        }
    }

    @Test func sessionsEndAfterTheirAbsoluteLifetimeEvenWhenUsed() async throws {
        // Generous margins: the whole suite runs in parallel, and a loaded machine stalls for seconds.
        try await TestApp.with({ $0.lifetimes.sessionAbsolute = .seconds(10) }) { _, people, client in
            var browser = WebBrowser()
            _ = try await browser.signIn(people["wittenCM"].email, client)
            // Taken after the sign-in answered, so the session began before it.
            let start = ContinuousClock.now
            #expect(try await browser.get("/", client).status == .ok)
            try await Task.sleep(for: .seconds(1))
            // Still in use, well within its lifetime (unless this machine stalled for seconds).
            if ContinuousClock.now - start < .seconds(4) { #expect(try await browser.get("/", client).status == .ok) }
            try await Task.sleep(until: start + .milliseconds(10500))
            #expect(try await browser.get("/", client).status == .seeOther)
        }
    }

    @Test func passwordChangeValidatesAndWorks() async throws {
        try await TestApp.with { _, people, client in
            var browser = WebBrowser()
            _ = try await browser.signIn(people["wittenLead"].email, client)
            _ = try await browser.get("/konto", client)
            let short = try await browser.post(
                "/konto/passwort",
                [("current_password", TestApp.password), ("new_password", "kurz"), ("new_password_repeat", "kurz")],
                client
            )
            #expect(short.status == .unprocessableContent)
            #expect(short.text.contains("mindestens 10 Zeichen"))
            let done = try await browser.post(
                "/konto/passwort",
                [("current_password", TestApp.password), ("new_password", "ein-neues-passwort"), ("new_password_repeat", "ein-neues-passwort")],
                client
            )
            #expect(done.status == .seeOther)
            var other = WebBrowser()
            #expect(try await other.signIn(people["wittenLead"].email, password: TestApp.password, client).status == .unauthorized)
            #expect(try await other.signIn(people["wittenLead"].email, password: "ein-neues-passwort", client).status == .seeOther)
        }
    }
}
