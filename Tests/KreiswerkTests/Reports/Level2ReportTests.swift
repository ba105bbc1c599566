import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Kreiswerk

/// Level-2 reports: a partner reports to a town's case management; the team accepts (a level-2 case) or declines.
@Suite struct Level2ReportTests {
    static let report =
        #"{"town":"witten","complexity":"jurisdiction_interplay","first_name":"Nadia","last_name":"Petrova","date_of_birth":"1979-05-20","languages":["ru","uk"],"contact":"über die AWO-Beratung","description":"Jobcenter und Ausländerbehörde verweisen aufeinander.","consent_given_on":"2026-03-01"}"#

    @Test func aReportLandsInTheTownsInboxAndAcceptingOpensALevel2Case() async throws {
        try await TestApp.with { _, people, client in
            let partner = people["partner"].token  // AWO EN: an external actor
            #expect(try await client.api(.post, "/api/v1/reports", token: people["wittenCM"].token, json: Self.report).status == .forbidden)
            let noConsent = try await client.api(
                .post,
                "/api/v1/reports",
                token: partner,
                json: Self.report.replacingOccurrences(of: #","consent_given_on":"2026-03-01""#, with: "")
            )
            #expect(noConsent.status == .unprocessableContent)
            let sent = try await client.api(.post, "/api/v1/reports", token: partner, json: Self.report)
            #expect(sent.status == .created, "\(sent.text)")
            #expect(sent.object["channel"] as? String == "level2_external")
            let id = try #require(sent.object["id"] as? String)

            // Witten's team sees it; Hattingen's does not.
            let inbox = try await client.api(.get, "/api/v1/reports/inbox", token: people["wittenCM"].token).array
            #expect(inbox.map { $0["id"] as? String } == [id])
            #expect(try await client.api(.get, "/api/v1/reports/inbox", token: people["hattingenCM"].token).array.isEmpty)
            #expect(
                try await client.api(.post, "/api/v1/reports/\(id)/decision", token: people["hattingenCM"].token, json: #"{"decision":"accepted"}"#)
                    .status == .notFound
            )

            let accepted = try await client.api(
                .post,
                "/api/v1/reports/\(id)/decision",
                token: people["wittenCM"].token,
                json: #"{"decision":"accepted"}"#
            )
            #expect(accepted.status == .ok, "\(accepted.text)")
            let caseID = try #require(accepted.object["case_id"] as? String)
            let opened = try await client.api(.get, "/api/v1/cases/\(caseID)", token: people["wittenCM"].token).object
            let file = try #require(opened["case"] as? [String: Any])
            #expect(file["channel"] as? String == "level2_external")
            #expect((file["reason"] as? String)?.contains("Jobcenter und Ausländerbehörde") == true)
            #expect((opened["client"] as? [String: Any])?["has_case_management_consent"] as? Bool == true)
            // Deciding twice is refused; the reporter sees the decision but not the case.
            #expect(
                try await client.api(
                    .post,
                    "/api/v1/reports/\(id)/decision",
                    token: people["wittenCM"].token,
                    json: #"{"decision":"declined","reason":"x"}"#
                ).status == .unprocessableContent
            )
            let mine = try await client.api(.get, "/api/v1/reports/sent", token: partner).array
            #expect(mine.first?["state"] as? String == "accepted")
            #expect(mine.first?["case_id"] == nil)
            #expect(try await client.api(.get, "/api/v1/cases/\(caseID)", token: partner).status == .forbidden)
        }
    }

    @Test func declineNeedsAReasonTheReporterSees() async throws {
        try await TestApp.with { _, people, client in
            let abh = people["abh"].token  // the district's ABH: an internal actor
            let sent = try await client.api(
                .post,
                "/api/v1/reports",
                token: abh,
                json: Self.report.replacingOccurrences(of: "\"witten\"", with: "\"hattingen\"")
            )
            #expect(sent.object["channel"] as? String == "level2_internal")
            let id = try #require(sent.object["id"] as? String)
            let cm = people["hattingenCM"].token
            #expect(
                try await client.api(.post, "/api/v1/reports/\(id)/decision", token: cm, json: #"{"decision":"declined"}"#).status
                    == .unprocessableContent
            )
            #expect(
                try await client.api(
                    .post,
                    "/api/v1/reports/\(id)/decision",
                    token: cm,
                    json: #"{"decision":"declined","reason":"Nicht in Hattingen gemeldet"}"#
                ).status == .ok
            )
            let mine = try await client.api(.get, "/api/v1/reports/sent", token: abh).array.first
            #expect(mine?["state"] as? String == "declined")
            #expect(mine?["decision_reason"] as? String == "Nicht in Hattingen gemeldet")
            #expect(
                try await client.api(
                    .post,
                    "/api/v1/reports",
                    token: abh,
                    json: Self.report.replacingOccurrences(of: "\"witten\"", with: "\"nirgendwo\"")
                ).status == .unprocessableContent
            )
        }
    }

    @Test func reportsToBreckerfeldReachTheCarrierThatCarriesOutItsCaseManagement() async throws {
        try await TestApp.with { db, people, client in
            let sent = try await client.api(
                .post,
                "/api/v1/reports",
                token: people["partner"].token,
                json: Self.report.replacingOccurrences(of: "\"witten\"", with: "\"breckerfeld\"")
            )
            #expect(sent.object["recipient"] as? String == "vhs-en-sued")
            let vhs = try await OperatorAccounts(database: db.owner, passwords: Passwords(cost: 4)).create(
                tenant: "vhs-en-sued",
                email: "cm@vhs.test",
                displayName: "V",
                roles: [.caseManager],
                password: TestApp.password
            )
            let token = try await OperatorAccounts(database: db.owner).createToken(email: vhs.email, name: "t", expiresInDays: 1).1.value
            #expect(try await client.api(.get, "/api/v1/reports/inbox", token: token).array.count == 1)
        }
    }

    @Test func theReportPagesWorkWithoutJavaScript() async throws {
        try await TestApp.with { _, people, client in
            var partner = WebBrowser()
            _ = try await partner.signIn(people["partner"].email, client)
            let page = try await partner.get("/meldungen", client)
            #expect(page.text.contains("id=\"report\""))
            let incomplete = try await partner.post("/meldungen", [("town", "witten"), ("complexity", ""), ("first_name", "N")], client)
            #expect(incomplete.status == .unprocessableContent)
            let sent = try await partner.post(
                "/meldungen",
                [
                    ("town", "witten"), ("complexity", "structural_gap"), ("first_name", "Nadia"), ("last_name", "Petrova"),
                    ("date_of_birth", "1979-05-20"),
                    ("description", "Kein Sprachkurs mit Kinderbetreuung erreichbar."), ("consent", "1"), ("consent_given_how", "orally"),
                ],
                client
            )
            #expect(sent.status == .seeOther)
            var team = WebBrowser()
            _ = try await team.signIn(people["wittenCM"].email, client)
            let inbox = try await team.get("/meldungen", client)
            #expect(inbox.text.contains("Nadia Petrova"))
            let id = try #require(inbox.text.firstMatch(of: /data-report="([0-9a-f-]+)"/)?.1)
            let accepted = try await team.post("/meldungen/\(id)/entscheidung", [("decision", "accepted")], client)
            #expect(accepted.headers[.location]?.hasPrefix("/faelle/") == true)
            #expect(try await partner.get("/meldungen", client).text.contains("angenommen"))
        }
    }
}
