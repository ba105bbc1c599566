import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Kreiswerk

/// Dates people enter lie between 01.01.1900 and 31.12.2100 (`Day.enterable`): a review on 9999-12-31 or a conference
/// on 0000-01-01 is a 422 that names the range, through the API and through the forms alike.
@Suite struct DateRangeTests {
    static let range = "zwischen dem 01.01.1900 und dem 31.12.2100"

    @Test func enteredDatesOutsideTheRangeNameIt() throws {
        #expect(Day.outOfRange == "Das Datum muss \(Self.range) liegen.")
        for text in ["9999-12-31", "0000-01-01", "1899-12-31", "2101-01-01"] {
            #expect(throws: InvalidInput.self, "\(text)") { try Day.entered(text, field: "review_on") }
            #expect((try? Day.parse(text, field: "review_on", label: "Prüftermin")) == nil, "\(text)")
        }
        #expect(try Day.entered("1900-01-01", field: "x")?.iso == "1900-01-01")
        #expect(try Day.entered("2100-12-31", field: "x")?.iso == "2100-12-31")
        #expect(try Day.entered("2026-02-30", field: "x") == nil, "no such day: the caller says what a date looks like")
        #expect(throws: InvalidInput.self) { try Day.enteredInstant("0000-01-01T10:00", field: "scheduled_at") }
        #expect(throws: InvalidInput.self) { try Day.enteredInstant("9999-12-31T10:00", field: "scheduled_at") }
        #expect(try Day.enteredInstant("2100-12-31T23:59", field: "scheduled_at") != nil)
        #expect(try Day.enteredInstant("morgen", field: "scheduled_at") == nil)
        // Reading from the database is not input: any day there is a day.
        #expect(Day("2200-01-01") != nil)
    }

    /// The 422 of an API call for `field`, with the range in its message.
    func expectOutOfRange(_ response: TestResponse, _ field: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(response.status == .unprocessableContent, "\(response.text)", sourceLocation: sourceLocation)
        #expect((response.object["errors"] as? [String: String])?[field] == Day.outOfRange, "\(response.text)", sourceLocation: sourceLocation)
    }

    @Test func theAPIRefusesDatesOutsideTheRange() async throws {
        try await TestApp.with { db, people, client in
            let cm = people["wittenCM"].token
            let (caseID, goalID) = try await GoalPostponementTests.goalDueInTwoDays(client, cm)
            let today = Day.today.iso
            expectOutOfRange(
                try await client.api(
                    .post,
                    "/api/v1/cases/\(caseID)/goals",
                    token: cm,
                    json: #"{"area":"work","text":"Arbeit","agreed_on":"\#(today)","review_on":"9999-12-31"}"#
                ),
                "review_on"
            )
            expectOutOfRange(
                try await client.api(
                    .post,
                    "/api/v1/cases/\(caseID)/goals",
                    token: cm,
                    json: #"{"area":"work","text":"Arbeit","agreed_on":"0000-01-01","review_on":"\#(today)"}"#
                ),
                "agreed_on"
            )
            expectOutOfRange(
                try await client.api(
                    .post,
                    "/api/v1/cases/\(caseID)/goals/\(goalID)/postponement",
                    token: cm,
                    json: #"{"review_on":"9999-12-31"}"#,
                    headers: [.ifMatch: "\"1\""]
                ),
                "review_on"
            )
            let conference =
                #"{"kind":"municipal","title":"Wohnung","scheduled_at":"0000-01-01T10:00:00Z","summary":"Wohnung zu klein.","participants":["awo-en"],"consent_given_on":"\#(today)"}"#
            expectOutOfRange(try await client.api(.post, "/api/v1/cases/\(caseID)/conferences", token: cm, json: conference), "scheduled_at")
            expectOutOfRange(
                try await client.api(
                    .post,
                    "/api/v1/cases/\(caseID)/conferences",
                    token: cm,
                    json: conference.replacingOccurrences(of: "0000-01-01", with: "9999-12-31")
                ),
                "scheduled_at"
            )
            expectOutOfRange(
                try await client.api(
                    .post,
                    "/api/v1/clients",
                    token: cm,
                    json: #"{"first_name":"Amira","last_name":"Haddad","date_of_birth":"1850-03-12","consent_given_on":"\#(today)"}"#
                ),
                "date_of_birth"
            )
            // A malformed date is still a 400 that names the field.
            let malformed = try await client.api(
                .post,
                "/api/v1/cases/\(caseID)/goals",
                token: cm,
                json: #"{"area":"work","text":"Arbeit","agreed_on":"\#(today)","review_on":"31.12.2026"}"#
            )
            #expect(malformed.status == .badRequest)
            #expect((malformed.object["detail"] as? String)?.contains("review_on") == true)
            // Nothing out of range was written.
            let stored = try await db.owner.withTransaction { connection in
                try await connection.query(
                    """
                    SELECT (SELECT count(*) FROM goals WHERE review_on > '2100-12-31' OR agreed_on < '1900-01-01')
                         + (SELECT count(*) FROM case_conferences WHERE scheduled_at < '1900-01-01' OR scheduled_at > '2101-01-01')
                    """,
                    logger: TestDatabase.logger
                ).collect().first!.decode(Int.self)
            }
            #expect(stored == 0)
        }
    }

    @Test func theFormsRefuseDatesOutsideTheRange() async throws {
        try await TestApp.with { _, people, client in
            let (caseID, goal) = try await GoalPostponementTests.goalDueInTwoDays(client, people["wittenCM"].token)
            var browser = WebBrowser()
            _ = try await browser.signIn(people["wittenCM"].email, client)
            let casePath = "/faelle/\(caseID.lowercased())"
            func expectRefused(_ path: String, _ fields: [(String, String)], sourceLocation: SourceLocation = #_sourceLocation) async throws {
                _ = try await browser.get(casePath, client)
                let response = try await browser.post(path, fields, client)
                #expect(response.status == .unprocessableContent, sourceLocation: sourceLocation)
                #expect(response.text.contains(Day.outOfRange), sourceLocation: sourceLocation)
            }
            try await expectRefused(
                "\(casePath)/ziele",
                [("area", "work"), ("text", "Arbeit"), ("agreed_on", Day.today.iso), ("review_on", "9999-12-31")]
            )
            try await expectRefused("\(casePath)/ziele/\(goal.lowercased())/verschieben", [("review_on", "9999-12-31"), ("version", "1")])
            try await expectRefused(
                "\(casePath)/konferenzen",
                [
                    ("kind", "municipal"), ("title", "Wohnung"), ("scheduled_at", "0000-01-01T10:00"), ("summary", "Wohnung zu klein."),
                    ("participants", "awo-en"),
                    ("consent", "1"), ("consent_given_how", "orally"),
                ]
            )
        }
    }
}
