import Foundation
import PostgresNIO
import Testing

@testable import Kreiswerk

/// Inside the district tenant the coordination layer is the coordinators' and assistants': the tenant's other
/// accounts see no project group they are not a member of, no town's unpublished problem, no conference they were
/// not asked to moderate — through the API and straight in the database.
@Suite struct DistrictReadsTests {
    let logger = TestDatabase.logger

    /// Accounts of the district tenant in every role it offers besides coordination, each with a token.
    static func districtStaff(_ db: TestDatabase) async throws -> [(role: Role, id: UUID, token: String)] {
        let operators = OperatorAccounts(database: db.owner, passwords: Passwords(cost: 4))
        var staff: [(Role, UUID, String)] = []
        for role in Policy.rolesOffered(by: "district") where ![.districtCoordinator, .districtAssistant].contains(role) {
            let email = "\(role.rawValue.replacingOccurrences(of: "_", with: "-"))@en-kreis.test"
            let user = try await operators.create(
                tenant: "en-kreis",
                email: email,
                displayName: role.label,
                roles: [role],
                password: TestApp.password
            )
            let (_, secret) = try await operators.createToken(email: email, name: "tests", expiresInDays: nil)
            staff.append((role, user.id, secret.value))
        }
        return staff
    }

    @Test func theDistrictsOtherAccountsReadNoProjectGroupAndNoTownsProblem() async throws {
        try await TestApp.with { db, people, client in
            let coordinator = people["coordinator"].token
            let problem = try await LadderTests.raise(client, people)
            let created = try await client.api(
                .post,
                "/api/v1/project-groups",
                token: coordinator,
                json: #"{"level":"district","name":"PG Sprachkurse","topic":"Kinderbetreuung"}"#
            )
            #expect(created.status == .created, "\(created.text)")
            let group = try #require(created.object["id"] as? String)
            #expect(try await client.api(.get, "/api/v1/project-groups/\(group)", token: coordinator).status == .ok)
            #expect(try await LadderTests.get(client, coordinator, problem).status == .ok)

            let staff = try await Self.districtStaff(db)
            #expect(staff.count >= 3, "the district tenant offers more roles than coordination: \(staff.map(\.role))")
            for person in staff {
                let list = try await client.api(.get, "/api/v1/project-groups", token: person.token)
                #expect(list.status != .ok || list.array.isEmpty, "\(person.role) lists the district's project groups")
                #expect(
                    try await client.api(.get, "/api/v1/project-groups/\(group)", token: person.token).status != .ok,
                    "\(person.role) reads a group"
                )
                #expect(try await LadderTests.get(client, person.token, problem).status != .ok, "\(person.role) reads Witten's problem")
            }

            // The database itself: acting in the district tenant as each of them.
            let district = try #require(
                try await db.owner.withTransaction {
                    try await $0.query("SELECT id FROM tenants WHERE slug = 'en-kreis'", logger: logger).collect().first?.decode(UUID.self)
                }
            )
            for (who, expected) in staff.map({ ($0.id, 0) }) + [(people["coordinator"].id, 1)] {
                let seen = try await db.app.withTenant(district, user: who) { connection in
                    var counts: [Int] = []
                    for table in ["project_groups", "structural_problems", "problem_events"] {
                        let count = try await connection.query(PostgresQuery(unsafeSQL: "SELECT count(*)::integer FROM \(table)"), logger: logger)
                            .collect().first!.decode(Int.self)
                        counts.append(min(count, 1))
                    }
                    return counts
                }
                #expect(seen == [expected, expected, expected], "\(who): \(seen)")
            }
            // Nor can they write there.
            let refused = await #expect(throws: PSQLError.self) {
                try await db.app.withTenant(district, user: staff[0].id) { connection in
                    try await connection.query(
                        "INSERT INTO project_groups (tenant_id, id, level, name) VALUES (\(district), \(UUID()), 'district', 'Unterwandert')",
                        logger: logger
                    )
                }
            }
            #expect(refused?.sqlState == "42501")
        }
    }

    @Test func aModerationRequestReachesTheCoordinatorsOnly() async throws {
        try await TestApp.with { db, people, client in
            let cm = people["wittenCM"].token
            let coordinator = people["coordinator"].token
            let clientID = try await CaseWorkflowTests.register(client, cm)
            let (caseID, _) = try await CaseWorkflowTests.openCase(client, cm, clientID)
            let asked = try await client.api(
                .post,
                "/api/v1/cases/\(caseID)/conferences",
                token: cm,
                json:
                    #"{"kind":"municipal","title":"Familie Haddad: Wohnung","scheduled_at":"2027-01-12T10:00:00Z","summary":"Wohnung zu klein.","participants":["awo-en"],"consent_given_on":"2026-03-01","request_moderator":true}"#
            )
            #expect(asked.status == .created, "\(asked.text)")
            let id = try #require(asked.object["id"] as? String)
            #expect(try await client.api(.get, "/api/v1/conferences/\(id)", token: coordinator).status == .ok)
            #expect(
                try await client.api(.get, "/api/v1/conferences/\(id)", token: people["partner"].token).status == .ok,
                "AWO is invited as a whole"
            )

            for person in try await Self.districtStaff(db) {
                let response = try await client.api(.get, "/api/v1/conferences/\(id)", token: person.token)
                #expect(response.status != .ok, "\(person.role) reads the conference: \(response.text)")
                #expect(!response.text.contains("Wohnung zu klein"))
                let list = try await client.api(.get, "/api/v1/conferences", token: person.token)
                #expect(!list.text.contains(id), "\(person.role) lists the conference")
            }
            // A coordinator who joins later sees it too: the grant is to the role, not to today's coordinators.
            let operators = OperatorAccounts(database: db.owner, passwords: Passwords(cost: 4))
            _ = try await operators.create(
                tenant: "en-kreis",
                email: "neu@en-kreis.test",
                displayName: "Neue KS",
                roles: [.districtCoordinator],
                password: TestApp.password
            )
            let (_, later) = try await operators.createToken(email: "neu@en-kreis.test", name: "tests", expiresInDays: nil)
            #expect(try await client.api(.get, "/api/v1/conferences/\(id)", token: later.value).status == .ok)
        }
    }
}
