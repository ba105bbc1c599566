import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import Testing

@testable import Kreiswerk

/// Referrals with the standard hand-over: the receiving carrier sees the minimal data set through
/// an explicit grant the database enforces, loses it when consent is withdrawn, and nobody else sees anything.
@Suite struct ReferralGrantTests {
    /// A Witten case for Amira, referred to AWO's MBE; returns (client, case, referral) ids.
    static func refer(_ client: some TestClientProtocol, _ people: TestApp.People) async throws -> (client: String, case: String, referral: String) {
        let cm = people["wittenCM"].token
        let clientID = try await CaseWorkflowTests.register(
            client,
            cm,
            json: CaseWorkflowTests.amira
                + #","place_of_residence":"Witten","german_level":"A2","health_situation":"Diabetes","household":"zwei Kinder""#
        )
        let (caseID, _) = try await CaseWorkflowTests.openCase(client, cm, clientID)
        let services = try await client.api(.get, "/api/v1/services", token: cm).array
        let mbe = try #require(services.first { $0["key"] as? String == "mbe-awo" })
        #expect(mbe["carrier"] as? String == "awo-en")
        let withoutConsent = try await client.api(
            .post,
            "/api/v1/cases/\(caseID)/referrals",
            token: cm,
            json: #"{"service_id":"\#(mbe["id"]!)","reason":"Arbeitsmarktintegration"}"#
        )
        #expect(withoutConsent.status == .unprocessableContent)
        let sent = try await client.api(
            .post,
            "/api/v1/cases/\(caseID)/referrals",
            token: cm,
            json: #"{"service_id":"\#(mbe["id"]!)","reason":"Arbeitsmarktintegration","consent_given_on":"2026-02-01"}"#
        )
        #expect(sent.status == .created, "\(sent.text)")
        return (clientID, caseID, try #require(sent.object["id"] as? String))
    }

    /// AWO's staff: a case manager account of the carrier that receives the referrals to `mbe-awo`.
    static func carrierStaff(_ db: TestDatabase) async throws -> User {
        try await OperatorAccounts(database: db.owner, passwords: Passwords(cost: 4)).create(
            tenant: "awo-en",
            email: "beratung@awo-en.test",
            displayName: "Berta Beratung",
            roles: [.caseManager],
            password: TestApp.password
        )
    }

    @Test func theReceiverSeesExactlyTheMinimalDataSetAndAnswers() async throws {
        try await TestApp.with { db, people, client in
            let (clientID, caseID, referralID) = try await Self.refer(client, people)
            let awo = try await Self.carrierStaff(db)
            let (_, secret) = try await OperatorAccounts(database: db.owner).createToken(email: awo.email, name: "t", expiresInDays: 1)
            let receiver = secret.value
            let incoming = try await client.api(.get, "/api/v1/referrals/incoming", token: receiver).array
            #expect(incoming.count == 1)
            let seen = try #require(incoming.first)
            #expect(seen["first_name"] as? String == "Amira")
            #expect(seen["date_of_birth"] as? String == "1994-03-12")
            #expect(seen["german_level"] as? String == "A2")
            #expect(seen["case_id"] == nil, "the sender's case stays the sender's")
            let text = String(data: try JSONSerialization.data(withJSONObject: seen), encoding: .utf8)!
            #expect(!text.contains("Diabetes") && !text.contains("zwei Kinder") && !text.contains(clientID.lowercased()))
            // Nothing else of Witten: not the client, not the case.
            #expect(try await client.api(.get, "/api/v1/clients/\(clientID)", token: receiver).status == .notFound)
            #expect(try await client.api(.get, "/api/v1/cases/\(caseID)", token: receiver).status == .notFound)
            // The database agrees, whatever the application asks.
            let awoTenant = try await db.owner.withTransaction {
                try await $0.query("SELECT id FROM tenants WHERE slug = 'awo-en'", logger: TestDatabase.logger).collect().first!.decode(UUID.self)
            }
            let visible = try await db.app.withTenant(awoTenant) { connection in
                (
                    try await connection.query("SELECT count(*)::integer FROM clients", logger: TestDatabase.logger).collect().first!.decode(
                        Int.self
                    ),
                    try await connection.query("SELECT count(*)::integer FROM cases", logger: TestDatabase.logger).collect().first!.decode(Int.self),
                    try await connection.query("SELECT count(*)::integer FROM consents", logger: TestDatabase.logger).collect().first!.decode(
                        Int.self
                    ),
                    try await connection.query("SELECT count(*)::integer FROM referrals", logger: TestDatabase.logger).collect().first!.decode(
                        Int.self
                    )
                )
            }
            #expect(visible.0 == 0 && visible.1 == 0 && visible.2 == 0)
            #expect(visible.3 == 1)

            // Answers: decline needs a reason; accept, then feedback; the sender sees each.
            let bare = try await client.api(
                .post,
                "/api/v1/referrals/\(referralID)/responses",
                token: receiver,
                json: #"{"kind":"feedback","outcome":"started"}"#
            )
            #expect(bare.status == .unprocessableContent)
            #expect(
                try await client.api(.post, "/api/v1/referrals/\(referralID)/responses", token: receiver, json: #"{"kind":"declined"}"#).status
                    == .unprocessableContent
            )
            #expect(
                try await client.api(
                    .post,
                    "/api/v1/referrals/\(referralID)/responses",
                    token: receiver,
                    json: #"{"kind":"accepted","note":"Termin am 3.3."}"#
                ).status == .created
            )
            let feedback = try await client.api(
                .post,
                "/api/v1/referrals/\(referralID)/responses",
                token: receiver,
                json: #"{"kind":"feedback","outcome":"started","note":"Kurs begonnen"}"#
            )
            #expect(feedback.object["state"] as? String == "feedback")
            let senderView = try await client.api(.get, "/api/v1/cases/\(caseID)/referrals", token: people["wittenCM"].token).array.first
            #expect(senderView?["state"] as? String == "feedback")
            #expect((senderView?["responses"] as? [[String: Any]])?.count == 2)
            #expect(senderView?["case_id"] as? String != nil)
        }
    }

    @Test func aThirdTenantNeverSeesItAndWithdrawalEndsTheReceiversAccessAtOnce() async throws {
        try await TestApp.with { db, people, client in
            let (clientID, _, referralID) = try await Self.refer(client, people)
            let caritas = try await OperatorAccounts(database: db.owner, passwords: Passwords(cost: 4)).create(
                tenant: "caritas-en",
                email: "cm@caritas-en.test",
                displayName: "C",
                roles: [.caseManager],
                password: TestApp.password
            )
            let awo = try await OperatorAccounts(database: db.owner, passwords: Passwords(cost: 4)).create(
                tenant: "awo-en",
                email: "cm@awo-en.test",
                displayName: "A",
                roles: [.caseManager],
                password: TestApp.password
            )
            let third = try await OperatorAccounts(database: db.owner).createToken(email: caritas.email, name: "t", expiresInDays: 1).1.value
            let receiver = try await OperatorAccounts(database: db.owner).createToken(email: awo.email, name: "t", expiresInDays: 1).1.value
            for token in [third, people["hattingenCM"].token] {
                #expect(try await client.api(.get, "/api/v1/referrals/incoming", token: token).array.isEmpty)
                #expect(try await client.api(.get, "/api/v1/referrals/\(referralID)", token: token).status == .notFound)
                #expect(
                    try await client.api(.post, "/api/v1/referrals/\(referralID)/responses", token: token, json: #"{"kind":"accepted"}"#).status
                        == .notFound
                )
            }
            #expect(try await client.api(.get, "/api/v1/referrals/\(referralID)", token: receiver).status == .ok)

            // The client withdraws consent to the hand-over: the receiver sees nothing from that moment.
            let cm = people["wittenCM"].token
            let consents = try await client.api(.get, "/api/v1/clients/\(clientID)", token: cm).object["consents"] as? [[String: Any]] ?? []
            let handover = try #require(consents.first { $0["scope"] as? String == "handover" }?["id"] as? String)
            #expect(
                try await client.api(.post, "/api/v1/clients/\(clientID)/consents/\(handover)/withdraw", token: cm, json: "{}").status == .noContent
            )
            #expect(try await client.api(.get, "/api/v1/referrals/incoming", token: receiver).array.isEmpty)
            #expect(try await client.api(.get, "/api/v1/referrals/\(referralID)", token: receiver).status == .notFound)
            #expect(
                try await client.api(.post, "/api/v1/referrals/\(referralID)/responses", token: receiver, json: #"{"kind":"accepted"}"#).status
                    == .notFound
            )
            // Even a statement that skips the application cannot answer: the policy refuses it.
            let awoTenant = try await db.owner.withTransaction {
                try await $0.query("SELECT id FROM tenants WHERE slug = 'awo-en'", logger: TestDatabase.logger).collect().first!.decode(UUID.self)
            }
            let error = await #expect(throws: PSQLError.self) {
                try await db.app.withTenant(awoTenant) { connection in
                    try await connection.query(
                        """
                        INSERT INTO referral_responses (tenant_id, id, referral_id, sender_tenant_id, kind, note, responder_name, responded_by)
                        SELECT \(awoTenant), gen_random_uuid(), \(UUID(uuidString: referralID)!), id, 'accepted', '', 'x', gen_random_uuid() FROM tenants WHERE slug = 'witten'
                        """,
                        logger: TestDatabase.logger
                    )
                }
            }
            #expect(error?.sqlState == "42501")
            // The sender still sees its referral, marked as no longer shared; the revocation is recorded.
            let mine = try await client.api(.get, "/api/v1/referrals/\(referralID)", token: cm).object
            #expect(mine["grant_active"] as? Bool == false)
            let revoked = try await db.owner.withTransaction { connection in
                try await connection.query("SELECT revoke_reason FROM access_grants", logger: TestDatabase.logger).collect().first!.decode(
                    String?.self
                )
            }
            #expect(revoked == "consent withdrawn")
        }
    }

    @Test func aClientsDataIsExportedWholeForTheirOwnTenantOnly() async throws {
        try await TestApp.with { db, people, client in
            let (clientID, caseID, referralID) = try await Self.refer(client, people)
            let cm = people["wittenCM"].token
            _ = try await client.api(.post, "/api/v1/cases/\(caseID)/notes", token: cm, json: #"{"text":"Erstgespräch geführt"}"#)
            let export = try await client.api(.get, "/api/v1/clients/\(clientID)/export", token: cm)
            #expect(export.status == .ok, "\(export.text)")
            #expect(export.headers[.contentDisposition]?.contains("auskunft-\(clientID.lowercased()).json") == true)
            let document = export.object
            #expect(((document["client"] as? [String: Any])?["data"] as? [String: Any])?["first_name"] as? String == "Amira")
            #expect((document["consents"] as? [Any])?.count == 2, "case management and the hand-over")
            let cases = try #require(document["cases"] as? [[String: Any]])
            #expect(cases.count == 1)
            #expect(((cases.first?["referrals"] as? [[String: Any]])?.first?["id"] as? String)?.lowercased() == referralID.lowercased())
            #expect((cases.first?["timeline"] as? [Any])?.isEmpty == false)
            // Another tenant's staff get nothing, not even that the client exists.
            #expect(try await client.api(.get, "/api/v1/clients/\(clientID)/export", token: people["hattingenCM"].token).status == .notFound)
            #expect(try await client.api(.get, "/api/v1/clients/\(clientID)/export", token: people["partner"].token).status == .forbidden)
            // The export is in the audit trail with its own purpose.
            let audited = try await db.owner.withTransaction {
                try await $0.query(
                    "SELECT count(*)::integer FROM audit_log WHERE action = 'client.exported' AND purpose = 'data_subject_access'",
                    logger: TestDatabase.logger
                ).collect().first!.decode(Int.self)
            }
            #expect(audited == 1)
        }
    }
}
