import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization
import Testing

@testable import Kreiswerk

/// One log line per request with its id, route pattern and tenant; HTTP metrics per route; the client address and
/// request id believed only from a trusted proxy.
@Suite struct RequestLogTests {
    static func login(_ email: String, _ password: String) -> String { #"{"email":"\#(email)","password":"\#(password)"}"# }
    static let forwardedFor = HTTPField.Name("X-Forwarded-For")!
    static let requestID = HTTPField.Name("X-Request-Id")!

    /// Log lines as JSON objects, collected from the app's logger.
    final class Lines: Sendable {
        let lines = Mutex<[String]>([])
        var logger: Logger {
            var logger = Logger(label: "kreiswerk") { label in
                JSONLogHandler(label: label) { [self] line in self.lines.withLock { $0.append(line) } }
            }
            logger.logLevel = .debug
            return logger
        }
        var all: [String] { lines.withLock { $0 } }
        var requests: [[String: Any]] {
            all.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }.filter {
                $0["message"] as? String == "request"
            }
        }
    }

    /// `TestApp.with`, with the log lines of the app at hand.
    static func with(
        setup: TestingSetup = .router,
        _ adjust: @escaping (inout AppConfiguration) -> Void = { _ in },
        _ body: @escaping @Sendable (TestDatabase, TestApp.People, any TestClientProtocol, Lines) async throws -> Void
    ) async throws {
        try await TestDatabase.with { db in
            _ = try await db.applyENKreis()
            let people = try await TestApp.People.create(in: db)
            let lines = Lines()
            let app = try await buildApplication(TestApp.configuration(db, adjust), logger: lines.logger)
            try await app.test(setup) { client in try await body(db, people, client, lines) }
        }
    }

    static func auditedAddresses(_ db: TestDatabase) async throws -> [String?] {
        try await db.owner.withTransaction { connection in
            var addresses: [String?] = []
            for try await address in try await connection.query(
                "SELECT client_address FROM audit_log WHERE action = 'auth.sign_in_failed' ORDER BY id",
                logger: TestDatabase.logger
            ).decode(String?.self) {
                addresses.append(address)
            }
            return addresses
        }
    }

    @Test func eachRequestWritesOneJSONLineWithItsIDRoutePatternAndTenantButNoPathOrQuery() async throws {
        try await Self.with { _, people, client, lines in
            let unknown = UUID()
            let response = try await client.api(.get, "/api/v1/clients/\(unknown)?name=Mustermann", token: people["wittenCM"].token)
            #expect(response.status == .notFound)
            let id = try #require(response.headers[Self.requestID])
            #expect(id.count == 32)
            let line = try #require(lines.requests.first { $0["route"] as? String == "/api/v1/clients/{id}" })
            #expect(line["request_id"] as? String == id)
            #expect(line["status"] as? Int == 404)
            #expect(line["method"] as? String == "GET")
            #expect(line["tenant"] as? String == "witten")
            #expect(line["duration_ms"] is Double)
            #expect(line["level"] as? String == "info")
            for text in lines.all {
                #expect(!text.contains("Mustermann"), "a log line holds the query: \(text)")
                #expect(
                    !text.contains(unknown.uuidString) && !text.lowercased().contains(unknown.uuidString.lowercased()),
                    "a log line holds the path: \(text)"
                )
            }
            // A second request gets an id of its own; a direct client's X-Request-Id is not taken.
            let again = try await client.api(.get, "/api/v1/me", token: people["wittenCM"].token, headers: [Self.requestID: "forged-id"])
            #expect(again.status == .ok)
            #expect(again.headers[Self.requestID] != id)
            #expect(again.headers[Self.requestID] != "forged-id")
        }
    }

    @Test func metricsCountRequestsByRoutePatternAndStatusClass() async throws {
        try await Self.with { _, people, client, _ in
            let unknown = UUID()
            for _ in 0..<3 {
                _ = try await client.api(.get, "/api/v1/clients/\(unknown)", token: people["wittenCM"].token)
            }
            #expect(try await client.api(.get, "/api/v1/me", token: people["wittenCM"].token).status == .ok)
            _ = try await client.api(.get, "/gibt-es-nicht/\(unknown)", token: nil)
            let metrics = try await client.api(.get, "/metrics", token: people["platform"].token)
            #expect(metrics.status == .ok)
            let text = metrics.text
            #expect(text.contains(#"kreiswerk_http_requests_total{route="/api/v1/clients/{id}",method="GET",status="4xx"} 3"#), "\(text)")
            #expect(text.contains(#"kreiswerk_http_requests_total{route="/api/v1/me",method="GET",status="2xx"} 1"#))
            #expect(text.contains(#"kreiswerk_http_requests_total{route="NotFound",method="GET",status="4xx"} 1"#))
            #expect(text.contains(#"kreiswerk_http_request_duration_seconds_bucket{route="/api/v1/me",method="GET",le="+Inf"} 1"#))
            #expect(text.contains("kreiswerk_http_requests_in_flight"))
            #expect(!text.lowercased().contains(unknown.uuidString.lowercased()), "a raw path became a label")
        }
    }

    @Test func aDirectClientForgingXForwardedForIsNotBelieved() async throws {
        // The proxy is elsewhere (192.0.2.10); this client connects straight from 127.0.0.1 and claims other addresses.
        try await Self.with(setup: .live) {
            $0.port = 0
            $0.throttle.addressLimit = 4
            $0.trustForwardedFor = true
            $0.trustedProxies = try! TrustedProxies("192.0.2.10")
        } _: { db, people, client, _ in
            for index in 0..<4 {
                let forged: HTTPFields = [Self.forwardedFor: "203.0.113.\(index + 1)", Self.requestID: "forged-\(index)"]
                let response = try await client.api(
                    .post,
                    "/api/v1/auth/login",
                    token: nil,
                    json: Self.login("opfer\(index)@witten.test", "falsch-falsch"),
                    headers: forged
                )
                #expect(response.status == .unauthorized)
                #expect(response.headers[Self.requestID] != "forged-\(index)")
            }
            // All four failures came from one address, however the header varied: the fifth attempt is refused.
            let locked = try await client.api(
                .post,
                "/api/v1/auth/login",
                token: nil,
                json: Self.login(people["wittenCM"].email, TestApp.password),
                headers: [Self.forwardedFor: "198.51.100.99"]
            )
            #expect(locked.status == .tooManyRequests)
            #expect(try await Self.auditedAddresses(db) == Array(repeating: "127.0.0.1", count: 4))
        }
    }

    @Test func fromTheTrustedProxyTheAddressItAppendedCountsNotTheLeftMost() async throws {
        try await Self.with(setup: .live) {
            $0.port = 0
            $0.trustForwardedFor = true
        } _: { db, _, client, lines in
            // The client wrote 203.0.113.66; the proxy (127.0.0.1) appended the address it saw, 198.51.100.7.
            let response = try await client.api(
                .post,
                "/api/v1/auth/login",
                token: nil,
                json: Self.login("niemand@witten.test", "falsch-falsch"),
                headers: [Self.forwardedFor: "203.0.113.66, 198.51.100.7", Self.requestID: "caddy-4711"]
            )
            #expect(response.status == .unauthorized)
            #expect(response.headers[Self.requestID] == "caddy-4711")
            #expect(lines.requests.contains { $0["request_id"] as? String == "caddy-4711" && $0["route"] as? String == "/api/v1/auth/login" })
            #expect(try await Self.auditedAddresses(db) == ["198.51.100.7"])
        }
    }

    @Test func trustedProxiesTakeTheRightMostAddressThatIsNoProxy() throws {
        let proxies = try TrustedProxies("127.0.0.1, 10.0.0.0/8, fd00::/8")
        #expect(proxies.clientAddress(peer: "192.0.2.1", forwardedFor: ["203.0.113.5"]) == "192.0.2.1")
        #expect(proxies.clientAddress(peer: nil, forwardedFor: ["203.0.113.5"]) == nil)
        #expect(proxies.clientAddress(peer: "127.0.0.1", forwardedFor: ["203.0.113.5"]) == "203.0.113.5")
        #expect(proxies.clientAddress(peer: "127.0.0.1", forwardedFor: ["1.2.3.4, 203.0.113.5", "10.1.2.3"]) == "203.0.113.5")
        #expect(proxies.clientAddress(peer: "127.0.0.1", forwardedFor: ["2001:DB8::1"]) == "2001:db8::1")
        #expect(proxies.clientAddress(peer: "127.0.0.1", forwardedFor: ["::ffff:198.51.100.4"]) == "198.51.100.4")
        #expect(proxies.clientAddress(peer: "127.0.0.1", forwardedFor: ["203.0.113.5, <script>"]) == "127.0.0.1")
        #expect(proxies.clientAddress(peer: "127.0.0.1", forwardedFor: []) == "127.0.0.1")
        #expect(proxies.clientAddress(peer: "fd12::1", forwardedFor: ["10.0.0.1", "198.51.100.4"]) == "198.51.100.4")
        #expect(proxies.trusts("10.255.0.1") && !proxies.trusts("11.0.0.1") && !proxies.trusts("fe80::1") && !proxies.trusts(nil))
        #expect(!TrustedProxies.none.trusts("127.0.0.1"))
        #expect(TrustedProxies.loopback.trusts("127.0.0.1") && TrustedProxies.loopback.trusts("::1"))
        #expect(throws: ConfigurationError.self) { try TrustedProxies("10.0.0.0/33") }
        #expect(throws: ConfigurationError.self) { try TrustedProxies("proxy.example") }
    }

    @Test func requestIDsFromAProxyAreTakenOnlyWhenTheyCannotForgeALine() {
        typealias Log = RequestIDs
        #expect(Log.acceptable("0f3c9a2e-5b7d-4e61-9c1a-2b3c4d5e6f70") != nil)
        #expect(Log.acceptable("a\nb") == nil)
        #expect(Log.acceptable("a\"b") == nil)
        #expect(Log.acceptable(String(repeating: "a", count: 129)) == nil)
        #expect(Log.acceptable("") == nil)
    }

    @Test func theLogFormatComesFromTheEnvironment() throws {
        #expect(try LogFormat.fromEnvironment([:]) == .text)
        #expect(try LogFormat.fromEnvironment(["KREISWERK_LOG_FORMAT": "JSON"]) == .json)
        #expect(throws: ConfigurationError.self) { try LogFormat.fromEnvironment(["KREISWERK_LOG_FORMAT": "xml"]) }
        let written = Mutex<[String]>([])
        var logger = Logger(label: "kreiswerk") { JSONLogHandler(label: $0) { line in written.withLock { $0.append(line) } } }
        logger[metadataKey: "hb.request.id"] = "abc"
        logger.info("quote \" and\nnewline", metadata: ["count": .stringConvertible(3), "name": "x"])
        let line = try #require(written.withLock { $0.first })
        #expect(line.hasSuffix("}\n") && line.filter { $0 == "\n" }.count == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["message"] as? String == "quote \" and\nnewline")
        #expect(object["request_id"] as? String == "abc")
        #expect(object["count"] as? Int == 3)
        #expect(object["level"] as? String == "info")
    }
}
