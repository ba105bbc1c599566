import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Kreiswerk

/// A change repeated with its Idempotency-Key is made once: the repeat gets the first answer. Before, a client whose
/// answer was lost (a COMMIT's answer never came) and who tried again met the duplicate check, or made it twice.
@Suite struct IdempotencyTests {
    static let client = #"{"first_name":"Ida","last_name":"Potent","date_of_birth":"1990-02-03"}"#

    static func key(_ value: String) -> HTTPFields { [IdempotencyMiddleware.header: value] }

    static func clients(named lastName: String, _ db: TestDatabase) async throws -> Int {
        try await db.owner.withTransaction { connection in
            try await connection.query("SELECT count(*)::integer FROM clients WHERE last_name = \(lastName)", logger: TestDatabase.logger)
                .collect().first!.decode(Int.self)
        }
    }

    @Test func aRepeatedCreationGetsTheFirstAnswerAndCreatesNothing() async throws {
        try await TestApp.with { db, people, client in
            let cm = people["wittenCM"].token
            let first = try await client.api(.post, "/api/v1/clients", token: cm, json: Self.client, headers: Self.key("intake-0001"))
            #expect(first.status == .created, "\(first.text)")
            let again = try await client.api(.post, "/api/v1/clients", token: cm, json: Self.client, headers: Self.key("intake-0001"))
            #expect(again.status == .created)
            #expect(again.text == first.text, "the first answer, byte for byte")
            #expect(again.headers[.location] == first.headers[.location])
            #expect(again.headers[IdempotencyMiddleware.replayed] == "true")
            #expect(first.headers[IdempotencyMiddleware.replayed] == nil)
            #expect(try await Self.clients(named: "Potent", db) == 1)

            // The same key for another request is refused, naming the header.
            let other = try await client.api(
                .post,
                "/api/v1/clients",
                token: cm,
                json: #"{"first_name":"Ida","last_name":"Anders","date_of_birth":"1990-02-03"}"#,
                headers: Self.key("intake-0001")
            )
            #expect(other.status == .unprocessableContent)
            #expect((other.object["errors"] as? [String: String])?["Idempotency-Key"] != nil, "\(other.text)")
            #expect(try await Self.clients(named: "Anders", db) == 0)

            // A colleague's keys are their own: the same key makes the colleague's change.
            let lead = people["wittenLead"].token
            let colleagues = try await client.api(
                .post,
                "/api/v1/clients",
                token: lead,
                json: #"{"first_name":"Ida","last_name":"Kollegin","date_of_birth":"1990-02-03"}"#,
                headers: Self.key("intake-0001")
            )
            #expect(colleagues.status == .created || colleagues.status == .forbidden, "\(colleagues.text)")

            // Without a key nothing changes: the repeat meets the duplicate check.
            let unkeyed = try await client.api(.post, "/api/v1/clients", token: cm, json: Self.client)
            #expect(unkeyed.status == .conflict)

            // A key of 201 characters, or with a space, is a 422 that says what a key must be.
            for bad in [String(repeating: "k", count: 201), "zwei worte"] {
                let refused = try await client.api(.post, "/api/v1/clients", token: cm, json: Self.client, headers: Self.key(bad))
                #expect(refused.status == .unprocessableContent)
            }
        }
    }

    @Test func aChangeThatCommittedWithoutItsStoredAnswerIsNotMadeAgain() async throws {
        try await TestApp.with { db, people, client in
            let cm = people["wittenCM"].token
            let first = try await client.api(.post, "/api/v1/clients", token: cm, json: Self.client, headers: Self.key("lost-answer"))
            #expect(first.status == .created)
            // As if the answer had been lost after COMMIT, before it was stored.
            try await db.owner.withTransaction { connection in
                _ = try await connection.query(
                    "UPDATE idempotency_keys SET status = NULL, headers = NULL, body = NULL WHERE key = 'lost-answer'",
                    logger: TestDatabase.logger
                ).collect()
            }
            let again = try await client.api(.post, "/api/v1/clients", token: cm, json: Self.client, headers: Self.key("lost-answer"))
            #expect(again.status == .conflict)
            #expect(again.text.contains("Idempotency-Key"), "\(again.text)")
            #expect(try await Self.clients(named: "Potent", db) == 1)
        }
    }

    @Test func parallelRepeatsMakeTheChangeOnce() async throws {
        try await TestApp.with { db, people, client in
            let cm = people["wittenCM"].token
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        try await client.api(.post, "/api/v1/clients", token: cm, json: Self.client, headers: Self.key("parallel")).status
                    }
                }
                return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
            }
            #expect(statuses.allSatisfy { $0 == .created || $0 == .conflict }, "\(statuses)")
            #expect(statuses.contains(.created))
            #expect(try await Self.clients(named: "Potent", db) == 1, "made once: \(statuses)")
        }
    }
}
