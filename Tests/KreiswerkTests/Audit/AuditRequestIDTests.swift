import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Kreiswerk

/// An audit entry names the request that caused it (the id in the request's log line and its X-Request-Id answer).
@Suite struct AuditRequestIDTests {
    @Test func anAuditEntryCarriesTheIdOfItsRequest() async throws {
        try await TestApp.with { db, people, client in
            let cm = people["wittenCM"]
            let response = try await client.api(.get, "/api/v1/cases", token: cm.token)
            #expect(response.status == .ok)
            let id = try #require(response.headers[RequestLog<Router<AppRequestContext>.Responder>.requestIDHeader])
            let traced = try await db.owner.withTransaction { connection in
                try await connection.query(
                    "SELECT detail->>'request_id' FROM audit_log WHERE action = 'case.listed' AND actor_id = \(cm.id)",
                    logger: TestDatabase.logger
                ).collect().map { try $0.decode(String?.self) }
            }
            #expect(traced == [id])
        }
    }
}
