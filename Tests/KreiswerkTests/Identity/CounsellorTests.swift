import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import Testing

@testable import Kreiswerk

/// The counselling role (issue 20): a carrier's counsellor receives, accepts and answers the referrals to its services and
/// takes part in the conferences it is invited to, and sees nothing of case management — neither through the routes nor
/// in the database.
@Suite struct CounsellorTests {
    /// Permissions that are case management: a counsellor holds none of them.
    static let caseManagement: Set<Permission> = [
        .workCases, .overseeCaseload, .reportCases, .raiseProblems, .defineClientFields, .coordinateDistrict, .runCommittees,
        .viewDistrictFigures, .manageUsers, .viewUsers, .readAudit, .onboardTenants, .operateJobs,
    ]

    /// A counsellor of AWO (which receives the referrals to `mbe-awo`) and a case manager of AWO with a client of its own.
    static func awoStaff(_ db: TestDatabase, _ client: some TestClientProtocol) async throws -> (counsellor: String, cm: String, cmClient: String) {
        let operators = OperatorAccounts(database: db.owner, passwords: Passwords(cost: 4))
        var tokens: [String] = []
        for (email, roles) in [("beraterin@awo-en.test", [Role.counsellor]), ("fallmanagerin@awo-en.test", [.caseManager])] {
            _ = try await operators.create(tenant: "awo-en", email: email, displayName: email, roles: Set(roles), password: TestApp.password)
            tokens.append(try await operators.createToken(email: email, name: "t", expiresInDays: 1).1.value)
        }
        let own = try await CaseWorkflowTests.register(client, tokens[1], json: CaseWorkflowTests.amira)
        return (tokens[0], tokens[1], own)
    }

    @Test func theRoleTableOffersCounsellorsInCarriersAndAuthoritiesOnly() throws {
        #expect(Policy.rolesOffered(by: "carrier").contains(.counsellor))
        #expect(Policy.rolesOffered(by: "authority").contains(.counsellor))
        for kind in ["platform", "district", "municipality"] { #expect(!Policy.rolesOffered(by: kind).contains(.counsellor), "\(kind)") }
        let policy = Policy()
        for permission in Self.caseManagement { #expect(policy.scope(of: .counsellor, for: permission) == Scope.none, "\(permission)") }
        #expect(policy.scope(of: .counsellor, for: .answerReferrals) == .ownTenant)
        #expect(policy.scope(of: .counsellor, for: .attendConferences) == .ownTenant)
    }

    @Test func theDatabaseRefusesACounsellorInATown() async throws {
        try await TestDatabase.with { db in
            _ = try await db.applyENKreis()
            let operators = OperatorAccounts(database: db.owner, passwords: Passwords(cost: 4))
            await #expect(throws: (any Error).self) {
                _ = try await operators.create(
                    tenant: "witten",
                    email: "b@witten.test",
                    displayName: "B",
                    roles: [.counsellor],
                    password: TestApp.password
                )
            }
            _ = try await operators.create(
                tenant: "awo-en",
                email: "b@awo-en.test",
                displayName: "B",
                roles: [.counsellor],
                password: TestApp.password
            )
        }
    }

    @Test func aCounsellorAcceptsAReferralAndReportsBack() async throws {
        try await TestApp.with { db, people, client in
            let (_, caseID, referralID) = try await ReferralGrantTests.refer(client, people)
            let (counsellor, _, _) = try await Self.awoStaff(db, client)
            let incoming = try await client.api(.get, "/api/v1/referrals/incoming", token: counsellor)
            #expect(incoming.status == .ok, "\(incoming.text)")
            #expect(incoming.array.map { $0["id"] as? String } == [referralID])
            let accepted = try await client.api(.post, "/api/v1/referrals/\(referralID)/responses", token: counsellor, json: #"{"kind":"accepted"}"#)
            #expect(accepted.status == .created, "\(accepted.text)")
            let back = try await client.api(
                .post,
                "/api/v1/referrals/\(referralID)/responses",
                token: counsellor,
                json: #"{"kind":"feedback","outcome":"\#(Referral.outcomes.keys.sorted().first!)","note":"Erstgespräch geführt."}"#
            )
            #expect(back.status == .created, "\(back.text)")
            #expect(back.object["state"] as? String == "feedback")
            // The sender sees the answer on its case.
            let seen = try await client.api(.get, "/api/v1/cases/\(caseID)/referrals", token: people["wittenCM"].token).array
            #expect(seen.first?["state"] as? String == "feedback")
            // And the page the counsellor works on.
            var browser = WebBrowser()
            _ = try await browser.signIn("beraterin@awo-en.test", client)
            let page = try await browser.get("/verweisungen", client)
            #expect(page.status == .ok)
            #expect(page.text.contains("Amira"))
            #expect(!page.text.contains("href=\"/faelle\""), "no case navigation for a counsellor")
        }
    }

    @Test func aCounsellorGetsNothingOfCaseManagement() async throws {
        try await TestApp.with { db, people, client in
            _ = try await ReferralGrantTests.refer(client, people)
            let (counsellor, cm, ownClient) = try await Self.awoStaff(db, client)
            // Every case-management route, with any id: 403 (or 404 where the route hides what exists).
            let routes = try await buildRoutes(TestApp.configuration(db), database: db.app, logger: TestDatabase.logger)
            var browser = WebBrowser()
            #expect(try await browser.signIn("beraterin@awo-en.test", client).status == .seeOther)
            _ = try await browser.get("/konto", client)
            let csrf = try #require(browser.csrfToken)
            var reached: [String] = []
            var checked = 0
            for (key, access) in routes.rules.sorted(by: { $0.key < $1.key }) {
                guard case .signedIn(let permission) = access, Self.caseManagement.contains(permission) else { continue }
                let parts = key.split(separator: " ", maxSplits: 1).map(String.init)
                let method = HTTPRequest.Method(parts[0])!
                let path = parts[1].replacingOccurrences(of: #"\{[a-z_]+\}"#, with: ownClient, options: .regularExpression)
                let response: TestResponse
                if AuthenticationMiddleware.isMachinePath(path) {
                    response = try await client.api(method, path, token: counsellor, json: method == .get ? nil : "{}")
                } else if method == .get {
                    response = try await browser.get(path, client)
                } else {
                    response = try await browser.post(path, [], csrf: csrf, client)
                }
                checked += 1
                if ![403, 404].contains(Int(response.status.code)) { reached.append("\(response.status.code) \(key)") }
            }
            #expect(checked > 60)
            #expect(reached == [], "case-management routes a counsellor reached")
            // Their own tenant's case work stays hidden in the database too, whatever the application asks.
            let tenant = try await db.owner.withTransaction {
                try await $0.query("SELECT id FROM tenants WHERE slug = 'awo-en'", logger: TestDatabase.logger).collect().first!.decode(UUID.self)
            }
            func count(_ table: String, as email: String) async throws -> Int {
                let user = try await db.owner.withTransaction {
                    try await $0.query("SELECT id FROM users WHERE email = \(email)", logger: TestDatabase.logger).collect().first!.decode(UUID.self)
                }
                return try await db.app.withTenant(tenant, user: user) { connection in
                    try await connection.query("SELECT count(*)::integer FROM \(unescaped: table)", logger: TestDatabase.logger).collect().first!
                        .decode(Int.self)
                }
            }
            for table in ["clients", "consents"] {
                #expect(try await count(table, as: "fallmanagerin@awo-en.test") == 1, "\(table): the case manager sees it")
                #expect(try await count(table, as: "beraterin@awo-en.test") == 0, "\(table): the counsellor does not")
            }
            #expect(try await count("referrals", as: "beraterin@awo-en.test") == 1, "the referral to AWO's service stays visible")

            // Routes every signed-in person may call show a counsellor nothing of the own tenant's case work: not its
            // structural problems, not the conferences its case managers plan without inviting them.
            let (caseID, _) = try await CaseWorkflowTests.openCase(client, cm, ownClient)
            let raised = try await client.api(
                .post,
                "/api/v1/problems",
                token: cm,
                json:
                    #"{"title":"Keine Kurse","category":"structural_gap","description":"Alleinerziehende finden keine Kurse.","legal_spheres":["SGB II"],"district_wide_actor":false,"case_ids":["\#(caseID)"]}"#
            )
            let conference = try await client.api(
                .post,
                "/api/v1/cases/\(caseID)/conferences",
                token: cm,
                json:
                    #"{"kind":"municipal","title":"Fallkonferenz","scheduled_at":"2026-12-01T10:00:00Z","summary":"Wohnung.","participants":["hattingen"],"invitees":[],"request_moderator":false,"consent_given_on":"2026-03-01"}"#
            )
            #expect(conference.status == .created, "\(conference.text)")
            #expect(raised.status == .created, "\(raised.text)")
            #expect(try await client.api(.get, "/api/v1/conferences", token: counsellor).array.isEmpty)
            if let id = conference.object["id"] as? String {
                #expect(try await client.api(.get, "/api/v1/conferences/\(id)", token: counsellor).status == .notFound)
            }
            for table in ["structural_problems", "case_conferences", "cases"] {
                #expect(try await count(table, as: "fallmanagerin@awo-en.test") == 1, "\(table): the case manager sees it")
                #expect(try await count(table, as: "beraterin@awo-en.test") == 0, "\(table): the counsellor does not")
            }
            if raised.status == .created, let id = raised.object["id"] as? String {
                #expect(!(try await client.api(.get, "/api/v1/problems", token: counsellor).text.contains(id)))
                let read = try await client.api(.get, "/api/v1/problems/\(id)", token: counsellor)
                #expect([403, 404].contains(read.status.code), "\(read.status) \(read.text)")
            }
        }
    }
}
