import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Kreiswerk

/// Moving a goal's review to a later day without recording an outcome.
@Suite struct GoalPostponementTests {
    static func days(_ n: Int) -> String { Day(Date().addingTimeInterval(Double(n) * 86_400)).iso }

    /// A new client's case with one goal agreed today, due for review in two days: the case's and the goal's ids.
    static func goalDueInTwoDays(_ client: some TestClientProtocol, _ cm: String) async throws -> (case: String, goal: String) {
        let clientID = try await CaseWorkflowTests.register(client, cm)
        let (caseID, _) = try await CaseWorkflowTests.openCase(client, cm, clientID)
        let goal = try await client.api(
            .post,
            "/api/v1/cases/\(caseID)/goals",
            token: cm,
            json: #"{"area":"language","text":"B1-Kurs beginnen","agreed_on":"\#(days(0))","review_on":"\#(days(2))"}"#
        )
        return (caseID, try #require(goal.object["id"] as? String))
    }

    @Test func aGoalsReviewMovesLaterAndTheRemindersFollow() async throws {
        try await TestApp.with { db, people, client in
            let cm = people["wittenCM"].token
            let (caseID, goalID) = try await Self.goalDueInTwoDays(client, cm)
            let path = "/api/v1/cases/\(caseID)/goals/\(goalID)/postponement"
            func postpone(_ json: String, at version: Int?) async throws -> TestResponse {
                try await client.api(.post, path, token: cm, json: json, headers: version.map { [.ifMatch: "\"\($0)\""] } ?? [:])
            }
            let later = #"{"review_on":"\#(Self.days(30))","reason":"Kurs beginnt erst im nächsten Monat."}"#

            #expect(try await postpone(later, at: nil).status == .preconditionRequired)
            #expect(try await postpone(later, at: 9).status == .preconditionFailed)
            let past = try await postpone(#"{"review_on":"\#(Self.days(-1))"}"#, at: 1)
            #expect(past.status == .unprocessableContent)
            #expect((past.object["errors"] as? [String: String])?["review_on"] != nil)
            #expect(
                try await client.api(
                    .post,
                    "/api/v1/cases/\(caseID)/goals/\(UUID())/postponement",
                    token: cm,
                    json: later,
                    headers: [.ifMatch: "\"1\""]
                ).status == .notFound
            )
            #expect(
                try await client.api(.post, path, token: people["hattingenCM"].token, json: later, headers: [.ifMatch: "\"1\""]).status == .notFound
            )

            let moved = try await postpone(later, at: 1)
            #expect(moved.status == .ok, "\(moved.text)")
            #expect(moved.object["review_on"] as? String == Self.days(30))
            #expect(moved.headers[.eTag] == "\"2\"")
            let timeline = try await client.api(.get, "/api/v1/cases/\(caseID)", token: cm).object["timeline"] as? [[String: Any]] ?? []
            #expect(timeline.contains { ($0["text"] as? String)?.contains("Kurs beginnt erst im nächsten Monat.") == true })

            // No reminder for the old date; one before the new.
            try await ReminderRuleTests.sweep(db, asOf: Date())
            #expect(try await ReminderRuleTests.notifications(db).filter { $0.kind == "goal_review" }.isEmpty)
            try await ReminderRuleTests.sweep(db, asOf: Date().addingTimeInterval(28 * 86_400))
            #expect(try await ReminderRuleTests.notifications(db).filter { $0.kind == "goal_review" }.count == 1)

            // Once reviewed, the goal's date stays.
            #expect(
                try await client.api(
                    .post,
                    "/api/v1/cases/\(caseID)/goals/\(goalID)/review",
                    token: cm,
                    json: #"{"outcome":"achieved"}"#,
                    headers: [.ifMatch: "\"2\""]
                ).status == .ok
            )
            #expect(try await postpone(later, at: 3).status == .unprocessableContent)
        }
    }

    @Test func theCasePageMovesAGoalsReview() async throws {
        try await TestApp.with { _, people, client in
            let (caseID, goal) = try await Self.goalDueInTwoDays(client, people["wittenCM"].token)
            let goalID = goal.lowercased()
            var browser = WebBrowser()
            _ = try await browser.signIn(people["wittenCM"].email, client)
            let casePath = "/faelle/\(caseID.lowercased())"
            #expect(try await browser.get(casePath, client).text.contains("\(casePath)/ziele/\(goalID)/verschieben"))
            let empty = try await browser.post("\(casePath)/ziele/\(goalID)/verschieben", [("review_on", ""), ("version", "1")], client)
            #expect(empty.status == .unprocessableContent)
            _ = try await browser.get(casePath, client)
            let moved = try await browser.post(
                "\(casePath)/ziele/\(goalID)/verschieben",
                [("review_on", Self.days(20)), ("version", "1"), ("reason", "")],
                client
            )
            #expect(moved.status == .seeOther)
            #expect(try await browser.get(casePath, client).text.contains("Prüfung \(Day(Date().addingTimeInterval(20 * 86_400)).german)"))
        }
    }
}
