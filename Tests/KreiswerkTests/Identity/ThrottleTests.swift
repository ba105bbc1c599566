import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Kreiswerk

/// Repeated failed sign-ins are slowed, then refused for a while with a message that says so.
@Suite struct ThrottleTests {
    static func login(_ email: String, _ password: String) -> String { #"{"email":"\#(email)","password":"\#(password)"}"# }

    @Test func anAccountIsLockedAfterRepeatedFailuresEvenForTheRightPassword() async throws {
        try await TestApp.with({ $0.throttle.accountLimit = 3 }) { _, people, client in
            let email = people["wittenCM"].email
            for _ in 0..<3 {
                #expect(
                    try await client.api(.post, "/api/v1/auth/login", token: nil, json: Self.login(email, "falsch-falsch")).status == .unauthorized
                )
            }
            let locked = try await client.api(.post, "/api/v1/auth/login", token: nil, json: Self.login(email, TestApp.password))
            #expect(locked.status == .tooManyRequests)
            #expect(Int(locked.headers[.retryAfter] ?? "") ?? 0 > 800)
            #expect((locked.object["detail"] as? String)?.contains("gesperrt") == true)
            var browser = WebBrowser()
            let page = try await browser.signIn(email, client)
            #expect(page.status == .tooManyRequests)
            #expect(page.text.contains("Zu viele fehlgeschlagene Anmeldeversuche"))
            // Other accounts are not affected.
            #expect(
                try await client.api(.post, "/api/v1/auth/login", token: nil, json: Self.login(people["wittenLead"].email, TestApp.password)).status
                    == .ok
            )
        }
    }

    /// 50 wrong passwords at once: each attempt is counted before its password is checked, so at most the
    /// account's limit of them ever reach bcrypt; the rest are refused as locked.
    @Test func parallelWrongPasswordsAreCheckedAtMostLimitTimes() async throws {
        try await TestApp.with { db, people, client in
            let email = people["wittenCM"].email
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<50 {
                    group.addTask { try await client.api(.post, "/api/v1/auth/login", token: nil, json: Self.login(email, "falsch-falsch")).status }
                }
                return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
            }
            // Every password that was checked and wrong left one audit entry.
            let checked = try await db.owner.withTransaction { connection in
                try await connection.query(
                    "SELECT count(*)::integer FROM audit_log WHERE action = 'auth.sign_in_failed' AND detail->>'reason' = 'wrong_password'",
                    logger: TestDatabase.logger
                ).collect().first!.decode(Int.self)
            }
            #expect(checked <= 5, "\(checked) wrong passwords were verified")
            #expect(statuses.filter { $0 == .unauthorized }.count == checked)
            #expect(statuses.filter { $0 == .tooManyRequests }.count == 50 - checked)
            // Locked now, even for the right password.
            #expect(
                try await client.api(.post, "/api/v1/auth/login", token: nil, json: Self.login(email, TestApp.password)).status == .tooManyRequests
            )
        }
    }

    @Test func oneClientAddressTryingManyAccountsIsLocked() async throws {
        // A live server, so that the requests come from 127.0.0.1, the trusted proxy that names the client.
        try await TestApp.with(setup: .live) {
            $0.port = 0
            $0.throttle.addressLimit = 4
            $0.trustForwardedFor = true
        } _: { _, people, client in
            let attacker: HTTPFields = [HTTPField.Name("X-Forwarded-For")!: "203.0.113.7"]
            for index in 0..<4 {
                let response = try await client.api(
                    .post,
                    "/api/v1/auth/login",
                    token: nil,
                    json: Self.login("opfer\(index)@witten.test", "falsch-falsch"),
                    headers: attacker
                )
                #expect(response.status == .unauthorized)
            }
            let blocked = try await client.api(
                .post,
                "/api/v1/auth/login",
                token: nil,
                json: Self.login(people["wittenCM"].email, TestApp.password),
                headers: attacker
            )
            #expect(blocked.status == .tooManyRequests)
            let elsewhere: HTTPFields = [HTTPField.Name("X-Forwarded-For")!: "198.51.100.1"]
            #expect(
                try await client.api(
                    .post,
                    "/api/v1/auth/login",
                    token: nil,
                    json: Self.login(people["wittenCM"].email, TestApp.password),
                    headers: elsewhere
                ).status == .ok
            )
        }
    }

    @Test func failuresBeyondTheFirstFewAreSlowedDown() async throws {
        var limits = SignInThrottle.Limits()
        limits.slowAfter = 2
        limits.delayStep = .milliseconds(400)
        limits.maximumDelay = .seconds(1)
        limits.accountLimit = 6
        let throttle = SignInThrottle(limits: limits)
        try await TestDatabase.with { db in
            var delays: [Duration] = []
            for _ in 0..<6 {
                delays.append(throttle.delay(after: try await throttle.reserve(email: "a@b.de", address: "192.0.2.1", on: db.app)))
            }
            #expect(delays == [.zero, .zero, .milliseconds(400), .milliseconds(800), .seconds(1), .seconds(1)])
            // The seventh is refused before anything is verified.
            await #expect(throws: DomainError.self) { try await throttle.reserve(email: "a@b.de", address: "192.0.2.1", on: db.app) }
        }
        // And the answer really waits: the second failure with slowAfter 1 takes at least the step.
        try await TestApp.with({
            $0.throttle.slowAfter = 1
            $0.throttle.delayStep = .milliseconds(500)
            $0.throttle.maximumDelay = .seconds(1)
        }) { _, people, client in
            let email = people["wittenCM"].email
            _ = try await client.api(.post, "/api/v1/auth/login", token: nil, json: Self.login(email, "falsch-falsch"))
            let start = ContinuousClock.now
            let response = try await client.api(.post, "/api/v1/auth/login", token: nil, json: Self.login(email, "falsch-falsch"))
            let slowed = ContinuousClock.now - start
            #expect(response.status == .unauthorized)
            #expect(slowed >= .milliseconds(500))
        }
    }

    @Test func passwordsAreHashedWithBcryptCost12ByDefault() async throws {
        let hash = try await Passwords().hash("ein-langes-passwort")
        #expect(hash.hasPrefix("$2b$12$") || hash.hasPrefix("$2a$12$") || hash.hasPrefix("$2y$12$"))
        #expect(try await Passwords().verify("ein-langes-passwort", against: hash))
        #expect(try await !Passwords().verify("ein-anderes-passwort", against: hash))
        #expect(try await !Passwords().verify("irgendwas", against: nil))
    }
}
