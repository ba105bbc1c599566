import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import Kreiswerk

/// The server as tests drive it: the real build function, the real database, accounts for every role.
struct TestApp {
    static let password = "richtig-und-geheim-1"
    /// The fixed key that seals second-factor secrets in tests (base64 of "kreiswerk-test-key-not-a-secret!").
    static let totpKeys = try! SecretBox(current: "a3JlaXN3ZXJrLXRlc3Qta2V5LW5vdC1hLXNlY3JldCE=")

    /// A configuration for tests: cheap bcrypt for fixture accounts, short delays.
    static func configuration(_ db: TestDatabase, _ adjust: (inout AppConfiguration) -> Void = { _ in }) -> AppConfiguration {
        var throttle = SignInThrottle.Limits()
        throttle.delayStep = .milliseconds(5)
        throttle.maximumDelay = .milliseconds(20)
        var configuration = AppConfiguration(
            databaseURL: db.appURL,
            migrationsDirectory: TestDatabase.migrationsDirectory,
            maximumConnections: 8,
            publicURL: "http://kreiswerk.test",
            passwords: Passwords(cost: 4),
            throttle: throttle,
            auditSealInterval: .seconds(3600),
            worker: nil,
            mail: Mailer.Configuration(command: ["/bin/false"], publicURL: "http://kreiswerk.test")
        )
        configuration.totpKeys = totpKeys
        // No identity cache listener: each would hold a connection for its whole test, and hundreds of tests run at
        // once. IdentityCacheTests runs its own.
        configuration.identityCacheLifetime = .zero
        adjust(&configuration)
        return configuration
    }

    /// Runs `body` with a migrated database holding the Ennepe-Ruhr-Kreis, one account per role, and a client.
    /// `setup: .live` runs a real server (give it `port = 0`): requests then come from a peer address, 127.0.0.1.
    static func with(
        setup: TestingSetup = .router,
        _ adjust: (inout AppConfiguration) -> Void = { _ in },
        _ body: @escaping @Sendable (TestDatabase, People, any TestClientProtocol) async throws -> Void
    ) async throws {
        try await TestDatabase.with { db in
            _ = try await db.applyENKreis()
            let accounts = try await People.create(in: db)
            let app = try await buildApplication(configuration(db, adjust), logger: TestDatabase.logger)
            try await app.test(setup) { client in try await body(db, accounts, client) }
        }
    }

    /// One account per role, each with a personal access token.
    struct People {
        struct Account {
            var id: UUID
            var email: String
            var token: String
            var tenant: String
        }
        var byName: [String: Account] = [:]
        subscript(_ name: String) -> Account { byName[name]! }

        /// name: (tenant, roles)
        static let people: [String: (String, [Role])] = [
            "platform": ("betrieb", [.platformAdmin]),
            "coordinator": ("en-kreis", [.districtCoordinator]),
            "assistant": ("en-kreis", [.districtAssistant]),
            "wittenAdmin": ("witten", [.tenantAdmin]),
            "wittenLead": ("witten", [.teamLead]),
            "wittenCM": ("witten", [.caseManager]),
            "abh": ("en-kreis-abh", [.abhOfficer]),
            "partner": ("awo-en", [.partner]),
            "steering": ("witten", [.steeringMember]),
            "hattingenAdmin": ("hattingen", [.tenantAdmin]),
            "hattingenCM": ("hattingen", [.caseManager]),
        ]

        static func create(in db: TestDatabase) async throws -> People {
            let operators = OperatorAccounts(database: db.owner, passwords: Passwords(cost: 4))
            var accounts = People()
            for (name, (tenant, roles)) in people {
                let email = "\(name.lowercased())@\(tenant).test"
                let user = try await operators.create(tenant: tenant, email: email, displayName: name, roles: Set(roles), password: TestApp.password)
                let (_, secret) = try await operators.createToken(email: email, name: "tests", expiresInDays: nil)
                accounts.byName[name] = Account(id: user.id, email: email, token: secret.value, tenant: tenant)
            }
            return accounts
        }
    }
}

extension TestClientProtocol {
    /// A JSON API call with a bearer token.
    func api(
        _ method: HTTPRequest.Method,
        _ uri: String,
        token: String?,
        json: String? = nil,
        headers extra: HTTPFields = [:]
    ) async throws -> TestResponse {
        var headers = extra
        if let token { headers[.authorization] = "Bearer \(token)" }
        if json != nil { headers[.contentType] = "application/json" }
        return try await execute(uri: uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) })
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }
    func json() throws -> Any { try JSONSerialization.jsonObject(with: Data(buffer: body)) }
    var object: [String: Any] { (try? json()) as? [String: Any] ?? [:] }
    var array: [[String: Any]] { (try? json()) as? [[String: Any]] ?? [] }
}

/// A browser's view of the web pages: keeps cookies, finds the CSRF token in forms.
struct WebBrowser {
    var cookies: [String: String] = [:]
    var lastPage = ""

    var cookieHeader: String { cookies.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: "; ") }

    mutating func remember(_ response: TestResponse) {
        for line in response.headers[values: .setCookie] {
            let pair = line.split(separator: ";")[0].split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2 else { continue }
            if line.contains("Max-Age=0") || pair[1].isEmpty { cookies[pair[0]] = nil } else { cookies[pair[0]] = pair[1] }
        }
        if response.headers[.contentType]?.hasPrefix("text/html") == true { lastPage = response.text }
    }

    mutating func get(_ uri: String, _ client: some TestClientProtocol) async throws -> TestResponse {
        let response = try await client.execute(uri: uri, method: .get, headers: cookies.isEmpty ? [:] : [.cookie: cookieHeader], body: nil)
        remember(response)
        return response
    }

    /// Posts a form; the CSRF token of the last page is added unless `csrf` is given.
    mutating func post(
        _ uri: String,
        _ fields: [(String, String)],
        csrf: String? = nil,
        _ client: some TestClientProtocol
    ) async throws -> TestResponse {
        var all = fields
        all.append(("_csrf", csrf ?? csrfToken ?? ""))
        let body = all.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&")
        var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
        if !cookies.isEmpty { headers[.cookie] = cookieHeader }
        let response = try await client.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: body))
        remember(response)
        return response
    }

    var csrfToken: String? {
        guard let range = lastPage.range(of: #"name="_csrf" value="([^"]*)""#, options: .regularExpression) else { return nil }
        return String(lastPage[range].dropFirst(#"name="_csrf" value=""#.count).dropLast())
    }

    /// Signs in through the form; returns the response to the form post.
    mutating func signIn(_ email: String, password: String = TestApp.password, _ client: some TestClientProtocol) async throws -> TestResponse {
        _ = try await get("/anmelden", client)
        return try await post("/anmelden", [("email", email), ("password", password)], client)
    }
}
