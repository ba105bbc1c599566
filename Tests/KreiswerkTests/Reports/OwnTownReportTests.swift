import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Kreiswerk

/// A town's own offices report a complex case to its case-management team (issue 20, seed 004 section 6): Witten's
/// Sozialamt staff (the reporting role in Witten's tenant) reach Witten's team, which decides it; the team's own case
/// workers still take people in through the intake, and no other town sees the report.
@Suite struct OwnTownReportTests {
    @Test func aTownsOwnOfficeReportsToItsTeamWhichDecidesIt() async throws {
        try await TestApp.with { db, people, client in
            let operators = OperatorAccounts(database: db.owner, passwords: Passwords(cost: 4))
            _ = try await operators.create(
                tenant: "witten",
                email: "sozialamt@witten.test",
                displayName: "Sozialamt Witten",
                roles: [.partner],
                password: TestApp.password
            )
            let office = try await operators.createToken(email: "sozialamt@witten.test", name: "t", expiresInDays: 1).1.value
            // Before: refused with "Ihr eigenes Team nimmt Fälle über die Aufnahme auf".
            let sent = try await client.api(.post, "/api/v1/reports", token: office, json: Level2ReportTests.report)
            #expect(sent.status == .created, "\(sent.text)")
            let id = try #require(sent.object["id"] as? String)
            #expect(sent.object["channel"] as? String == "level2_internal")
            let inbox = try await client.api(.get, "/api/v1/reports/inbox", token: people["wittenCM"].token).array
            #expect(inbox.contains { $0["id"] as? String == id })
            #expect(try await client.api(.get, "/api/v1/reports/inbox", token: people["hattingenCM"].token).array.isEmpty)
            let accepted = try await client.api(
                .post,
                "/api/v1/reports/\(id)/decision",
                token: people["wittenCM"].token,
                json: #"{"decision":"accepted"}"#
            )
            #expect(accepted.status == .ok, "\(accepted.text)")
            #expect(accepted.object["case_id"] as? String != nil)
        }
    }
}
