import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import Testing

@testable import Kreiswerk

/// Structural problems on the escalation ladder, through the API and the scheduler's sweep.
@Suite struct LadderTests {
    /// Witten's case manager raises a problem from a case of their own; returns its id.
    static func raise(
        _ client: some TestClientProtocol,
        _ people: TestApp.People,
        districtWide: Bool = false,
        title: String = "Keine Sprachkurse mit Kinderbetreuung"
    ) async throws -> String {
        let cm = people["wittenCM"].token
        let clientID = try await CaseWorkflowTests.register(client, cm, json: CaseWorkflowTests.amira + #","allow_duplicate":true"#)
        let (caseID, _) = try await CaseWorkflowTests.openCase(client, cm, clientID)
        let raised = try await client.api(
            .post,
            "/api/v1/problems",
            token: cm,
            json:
                #"{"title":"\#(title)","category":"structural_gap","description":"Alleinerziehende können Integrationskurse nicht besuchen, weil keine Betreuung angeboten wird.","legal_spheres":["SGB II","AufenthG"],"district_wide_actor":\#(districtWide),"case_ids":["\#(caseID)"]}"#
        )
        #expect(raised.status == .created, "\(raised.text)")
        return try #require(raised.object["id"] as? String)
    }

    static func get(_ client: some TestClientProtocol, _ token: String, _ id: String) async throws -> TestResponse {
        try await client.api(.get, "/api/v1/problems/\(id)", token: token)
    }

    static func step(
        _ client: some TestClientProtocol,
        _ token: String,
        _ id: String,
        _ action: String,
        _ json: String,
        version: Int?
    ) async throws
        -> TestResponse
    {
        try await client.api(
            .post,
            "/api/v1/problems/\(id)/\(action)",
            token: token,
            json: json,
            headers: version.map { [.ifMatch: "\"\($0)\""] } ?? [:]
        )
    }

    /// A second district (Kreis Mettmann) with a coordinator, ks@mettmann.test; returns the coordinator's token.
    static func otherDistrictsCoordinator(_ db: TestDatabase) async throws -> String {
        try await db.owner.withTransaction { connection in
            try await connection.query(
                "INSERT INTO tenants (id, slug, name, kind) VALUES (\(UUID()), 'kreis-mettmann', 'Kreis Mettmann', 'district')",
                logger: TestDatabase.logger
            )
        }
        let operators = OperatorAccounts(database: db.owner, passwords: Passwords(cost: 4))
        _ = try await operators.create(
            tenant: "kreis-mettmann",
            email: "ks@mettmann.test",
            displayName: "KS Mettmann",
            roles: [.districtCoordinator],
            password: TestApp.password
        )
        return try await operators.createToken(email: "ks@mettmann.test", name: "t", expiresInDays: 1).1.value
    }

    @Test func theLadderFromRaisingToAPublishedSolution() async throws {
        try await TestApp.with { db, people, client in
            let coordinator = people["coordinator"].token
            let hattingen = people["hattingenCM"].token
            let id = try await Self.raise(client, people)
            var problem = try await Self.get(client, coordinator, id).object
            #expect(problem["level"] as? String == "municipal")
            #expect(problem["case_count"] as? Int == 1)
            #expect((problem["cases"] as? [Any])?.isEmpty == true, "the coordinator sees how many cases, never which")
            #expect((try await Self.get(client, people["wittenCM"].token, id).object["cases"] as? [Any])?.count == 1)
            let deadline = try #require(problem["level_deadline"] as? String)
            #expect(deadline > Day(ReminderRuleTests.days(55)).iso && deadline < Day(ReminderRuleTests.days(57)).iso, "8 weeks: \(deadline)")
            #expect(try await ReminderRuleTests.notifications(db).contains { $0.user == people["coordinator"].id && $0.kind == "problem_raised" })

            // Another town does not see it, not even in its list.
            #expect(try await Self.get(client, hattingen, id).status == .notFound)
            #expect(try await client.api(.get, "/api/v1/problems", token: hattingen).array.isEmpty)

            // Poll the other towns: Hattingen is asked (Witten, the raiser, is not) and answers.
            let polled = try await client.api(.post, "/api/v1/problems/\(id)/polls", token: coordinator, json: #"{"question":"Kennen Sie das?"}"#)
            #expect(polled.status == .created, "\(polled.text)")
            #expect(try await client.api(.get, "/api/v1/polls", token: people["wittenCM"].token).array.isEmpty)
            let asked = try await client.api(.get, "/api/v1/polls", token: hattingen).array
            let poll = try #require(asked.first?["id"] as? String)
            #expect(try await Self.get(client, hattingen, id).status == .notFound, "a poll shows the question, not the problem")
            #expect(
                try await client.api(
                    .post,
                    "/api/v1/polls/\(poll)/answers",
                    token: hattingen,
                    json: #"{"known":true,"answer":"Kurs mit Kita-Plätzen der VHS"}"#
                )
                .status == .noContent
            )
            #expect(
                try await client.api(.post, "/api/v1/polls/\(poll)/answers", token: people["wittenCM"].token, json: #"{"known":false}"#).status
                    == .notFound
            )
            problem = try await Self.get(client, coordinator, id).object
            let answers = (problem["polls"] as? [[String: Any]])?.first?["answers"] as? [[String: Any]]
            #expect(answers?.first?["tenant"] as? String == "Stadt Hattingen")

            // Escalate by hand: If-Match required, stale refused, reason required.
            #expect(try await Self.step(client, coordinator, id, "escalate", #"{"reason":"x"}"#, version: nil).status == .preconditionRequired)
            #expect(try await Self.step(client, coordinator, id, "escalate", #"{"reason":"x"}"#, version: 99).status == .preconditionFailed)
            #expect(try await Self.step(client, coordinator, id, "escalate", #"{"reason":" "}"#, version: 1).status == .unprocessableContent)
            #expect(try await Self.step(client, people["wittenCM"].token, id, "escalate", #"{"reason":"x"}"#, version: 1).status == .forbidden)
            let escalated = try await Self.step(client, coordinator, id, "escalate", #"{"reason":"Betrifft alle Städte."}"#, version: 1)
            #expect(escalated.status == .ok, "\(escalated.text)")
            #expect(escalated.object["level"] as? String == "district")
            let version = try #require(escalated.object["version"] as? Int)

            // Solve with a published solution: now every town of the district reads it as good practice.
            let solved = try await Self.step(
                client,
                coordinator,
                id,
                "solve",
                #"{"solution":"Kreisweite Vereinbarung mit den Kursträgern über Kinderbetreuung.","publish":true}"#,
                version: version
            )
            #expect(solved.status == .ok, "\(solved.text)")
            #expect(solved.object["status"] as? String == "solved")
            let seen = try await Self.get(client, hattingen, id)
            #expect(seen.status == .ok)
            #expect((seen.object["solution"] as? String)?.contains("Kinderbetreuung") == true)
            #expect((seen.object["cases"] as? [Any])?.isEmpty == true)
            #expect(
                try await Self.step(client, coordinator, id, "escalate", #"{"reason":"x"}"#, version: version + 1).status == .unprocessableContent
            )
            #expect((seen.object["events"] as? [Any])?.isEmpty == true, "the good practice, not the committees' history")
            let history = try await Self.get(client, coordinator, id).object["events"] as? [[String: Any]]
            let kinds = history?.compactMap { $0["kind"] as? String }
            #expect(kinds == ["raised", "polled", "escalated", "solved", "published"])
        }
    }

    @Test func theSchedulerRemindsWhenALevelsDeadlinePassesAndTheCoordinatorsDecide() async throws {
        try await TestApp.with { db, people, client in
            let coordinator = people["coordinator"].token
            let districtWide = try await Self.raise(client, people, districtWide: true, title: "ABH-Termine dauern Monate")
            #expect(try await Self.get(client, coordinator, districtWide).object["level"] as? String == "district")

            try await ReminderRuleTests.sweep(db, asOf: ReminderRuleTests.days(57))
            #expect(try await Self.get(client, coordinator, districtWide).object["overdue_since"] == nil, "12 weeks not over")
            try await ReminderRuleTests.sweep(db, asOf: ReminderRuleTests.days(85))
            let overdue = try await Self.get(client, coordinator, districtWide).object
            #expect(overdue["level"] as? String == "district", "the scheduler never takes a problem into the steering group")
            #expect(overdue["overdue_since"] as? String != nil)
            let told = try await ReminderRuleTests.notifications(db).filter { $0.kind == "problem_overdue" }
            #expect(told.map(\.user) == [people["coordinator"].id])

            // Carried up by a coordinator, it reaches the steering group, which has no deadline by default.
            let version = try #require(overdue["version"] as? Int)
            let up = try await Self.step(client, coordinator, districtWide, "escalate", #"{"reason":"Vorlage ist geschrieben."}"#, version: version)
            #expect(up.object["level"] as? String == "steering")
            #expect(up.object["overdue_since"] == nil)
            #expect(up.object["level_deadline"] == nil || up.object["level_deadline"] is NSNull)
            try await ReminderRuleTests.sweep(db, asOf: ReminderRuleTests.days(400))
            #expect(try await Self.get(client, coordinator, districtWide).object["level"] as? String == "steering")
        }
    }

    @Test func unansweredPollsAreRemindedOnce() async throws {
        try await TestApp.with { db, people, client in
            let id = try await Self.raise(client, people)
            #expect(
                try await client.api(.post, "/api/v1/problems/\(id)/polls", token: people["coordinator"].token, json: #"{"question":"Bekannt?"}"#)
                    .status == .created
            )
            func reminders() async throws -> [ReminderRuleTests.Sent] {
                try await ReminderRuleTests.notifications(db).filter { $0.kind == "problem_poll" && $0.title.hasPrefix("Erinnerung") }
            }
            try await ReminderRuleTests.sweep(db, asOf: ReminderRuleTests.days(3))
            #expect(try await reminders().isEmpty)
            try await ReminderRuleTests.sweep(db, asOf: ReminderRuleTests.days(8))
            #expect(try await reminders().map(\.user) == [people["hattingenCM"].id])
            try await ReminderRuleTests.sweep(db, asOf: ReminderRuleTests.days(9))
            #expect(try await reminders().count == 1, "reminded once")
        }
    }

    @Test func aCoordinatorOfAnotherDistrictSeesNothing() async throws {
        try await TestApp.with { db, people, client in
            let id = try await Self.raise(client, people)
            let other = try await Self.otherDistrictsCoordinator(db)
            #expect(try await client.api(.get, "/api/v1/problems", token: other).array.isEmpty)
            #expect(try await Self.get(client, other, id).status == .notFound)
            #expect(try await Self.step(client, other, id, "escalate", #"{"reason":"x"}"#, version: 1).status == .notFound)
            #expect(try await client.api(.post, "/api/v1/problems/\(id)/polls", token: other, json: #"{"question":"?"}"#).status == .notFound)
            #expect(try await Self.get(client, people["coordinator"].token, id).object["version"] as? Int == 1, "nothing changed")
        }
    }

    @Test func raisingNeedsOwnCasesAndAClearDescription() async throws {
        try await TestApp.with { _, people, client in
            let cm = people["wittenCM"].token
            let bad = try await client.api(
                .post,
                "/api/v1/problems",
                token: cm,
                json: #"{"title":"","category":"other","description":"","legal_spheres":["SGB IX"],"case_ids":[]}"#
            )
            #expect(bad.status == .unprocessableContent)
            let errors = bad.object["errors"] as? [String: String] ?? [:]
            #expect(Set(errors.keys) == ["title", "category", "description", "legal_spheres", "case_ids"], "\(errors)")
            // Hattingen's case manager cannot link Witten's case.
            let clientID = try await CaseWorkflowTests.register(client, cm)
            let (caseID, _) = try await CaseWorkflowTests.openCase(client, cm, clientID)
            let foreign = try await client.api(
                .post,
                "/api/v1/problems",
                token: people["hattingenCM"].token,
                json: #"{"title":"T","category":"structural_gap","description":"D","case_ids":["\#(caseID)"]}"#
            )
            #expect(foreign.status == .unprocessableContent)
            #expect(try await client.api(.post, "/api/v1/problems", token: people["partner"].token, json: "{}").status == .forbidden)
        }
    }

    @Test func twoCoordinatorsSteppingAtOnceConflictInsteadOfOverwriting() async throws {
        try await TestApp.with { _, people, client in
            let id = try await Self.raise(client, people)
            let coordinator = people["coordinator"].token
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for reason in ["Erste Begründung", "Zweite Begründung"] {
                    group.addTask { try await Self.step(client, coordinator, id, "escalate", #"{"reason":"\#(reason)"}"#, version: 1).status }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.sorted { $0.code < $1.code } == [.ok, .preconditionFailed], "\(statuses)")
            #expect(try await Self.get(client, coordinator, id).object["level"] as? String == "district", "moved once, not twice")
        }
    }
}
