import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Kreiswerk

/// Handing a case over to a colleague: its owner may, a team lead may for any case; the new owner is told.
@Suite struct CaseHandOverTests {
    @Test func theOwnerOrTheTeamLeadHandsACaseOverAndTheNewOwnerIsTold() async throws {
        try await TestApp.with { db, people, client in
            let cm = people["wittenCM"].token
            let lead = people["wittenLead"].token
            let colleague = try await OperatorAccounts(database: db.owner, passwords: Passwords(cost: 4)).create(
                tenant: "witten",
                email: "kollegin@witten.test",
                displayName: "Kollegin Witten",
                roles: [.caseManager],
                password: TestApp.password
            )
            let colleagueToken = try await OperatorAccounts(database: db.owner).createToken(email: colleague.email, name: "t", expiresInDays: 1).1
                .value
            let clientID = try await CaseWorkflowTests.register(client, cm)
            let (caseID, version) = try await CaseWorkflowTests.openCase(client, cm, clientID)
            let path = "/api/v1/cases/\(caseID)/owner"
            func handOver(_ token: String, to owner: UUID, at version: Int?) async throws -> TestResponse {
                try await client.api(
                    .post,
                    path,
                    token: token,
                    json: #"{"owner_id":"\#(owner)"}"#,
                    headers: version.map { [.ifMatch: "\"\($0)\""] } ?? [:]
                )
            }

            // Refused: no If-Match, a stale one, someone of another town, an account that does not work cases, the owner themself.
            #expect(try await handOver(cm, to: colleague.id, at: nil).status == .preconditionRequired)
            #expect(try await handOver(cm, to: colleague.id, at: version + 5).status == .preconditionFailed)
            for (owner, who) in [
                (people["hattingenCM"].id, "another town's case manager"), (people["wittenAdmin"].id, "an administrator"),
                (people["wittenCM"].id, "the owner"),
            ] {
                let refused = try await handOver(cm, to: owner, at: version)
                #expect(refused.status == .unprocessableContent, "\(who)")
                #expect((refused.object["errors"] as? [String: String])?["owner_id"] != nil, "\(who): \(refused.text)")
            }

            // The owner hands it over: it is the colleague's case now, with a new version, and she is told.
            let handed = try await handOver(cm, to: colleague.id, at: version)
            #expect(handed.status == .ok, "\(handed.text)")
            #expect((handed.object["owner_id"] as? String)?.lowercased() == colleague.id.uuidString.lowercased())
            #expect(handed.headers[.eTag] == "\"\(version + 1)\"")
            #expect(
                try await client.api(.get, "/api/v1/cases", token: colleagueToken).array.compactMap { ($0["id"] as? String)?.lowercased() } == [
                    caseID.lowercased()
                ]
            )
            #expect(try await client.api(.get, "/api/v1/cases", token: cm).array.isEmpty)
            let inbox = try await client.api(.get, "/api/v1/notifications", token: colleagueToken).array
            #expect(inbox.map { $0["kind"] as? String } == ["case_handed_over"])
            #expect(inbox.first?["link"] as? String == "/faelle/\(caseID.lowercased())")

            // The former owner cannot take it back; the team lead can give it to anyone of the team.
            #expect(try await handOver(cm, to: people["wittenCM"].id, at: version + 1).status == .forbidden)
            #expect(try await handOver(lead, to: people["wittenCM"].id, at: version + 1).status == .ok)
            let timeline = try await client.api(.get, "/api/v1/cases/\(caseID)", token: cm).object["timeline"] as? [[String: Any]] ?? []
            let handOvers = timeline.compactMap { $0["text"] as? String }.filter { $0.contains("übergeben") }
            #expect(
                handOvers == ["Fall von Kollegin Witten an wittenCM übergeben.", "Fall von wittenCM an Kollegin Witten übergeben."],
                "newest first: \(handOvers)"
            )
        }
    }

    @Test func theCasePageHandsACaseOverWithoutJavaScript() async throws {
        try await TestApp.with { db, people, client in
            let colleague = try await OperatorAccounts(database: db.owner, passwords: Passwords(cost: 4)).create(
                tenant: "witten",
                email: "kollegin@witten.test",
                displayName: "Kollegin Witten",
                roles: [.caseManager],
                password: TestApp.password
            )
            let clientID = try await CaseWorkflowTests.register(client, people["wittenCM"].token)
            let (caseID, version) = try await CaseWorkflowTests.openCase(client, people["wittenCM"].token, clientID)
            var browser = WebBrowser()
            _ = try await browser.signIn(people["wittenCM"].email, client)
            let page = try await browser.get("/faelle/\(caseID.lowercased())", client).text
            #expect(page.contains("id=\"hand-over\"") && page.contains("Kollegin Witten"))
            #expect(
                !page.contains("<option value=\"\(people["wittenAdmin"].id.uuidString.lowercased())\""),
                "only colleagues who work cases are offered"
            )
            let stale = try await browser.post(
                "/faelle/\(caseID.lowercased())/uebergabe",
                [("owner_id", colleague.id.uuidString.lowercased()), ("version", "\(version + 3)")],
                client
            )
            #expect(stale.status == .conflict)
            let handed = try await browser.post(
                "/faelle/\(caseID.lowercased())/uebergabe",
                [("owner_id", colleague.id.uuidString.lowercased()), ("version", "\(version)")],
                client
            )
            #expect(handed.status == .seeOther)
            let after = try await browser.get("/faelle/\(caseID.lowercased())", client).text
            #expect(after.contains("Fall von wittenCM an Kollegin Witten übergeben.") && !after.contains("id=\"hand-over\""))
        }
    }
}
