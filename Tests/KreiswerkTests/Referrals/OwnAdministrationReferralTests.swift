import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Kreiswerk

/// Referrals within a town's own administration and a carrier's own house (issue 20, seed 004 section 6): Witten's
/// Jugendamt, shipped as a tenant of its own, receives Witten's referrals and reports its own cases to Witten's team; a
/// carrier's counsellors receive the referrals of its own case workers (which `Referrals.incoming` left out); a service
/// of the town's own tenant, where nobody receives referrals, is refused instead of lost.
@Suite struct OwnAdministrationReferralTests {
    static func account(_ db: TestDatabase, _ email: String, _ tenant: String, _ roles: Set<Role>) async throws -> String {
        let operators = OperatorAccounts(database: db.owner, passwords: Passwords(cost: 4))
        _ = try await operators.create(tenant: tenant, email: email, displayName: email, roles: roles, password: TestApp.password)
        return try await operators.createToken(email: email, name: "t", expiresInDays: 1).1.value
    }

    static func serviceID(_ client: some TestClientProtocol, _ token: String, named name: String) async throws -> String {
        let services = try await client.api(.get, "/api/v1/services", token: token).array
        return try #require(services.first { $0["name"] as? String == name }?["id"] as? String, "\(name)")
    }

    /// A new case of Amira living in `town`, with her consent to case management: the client's and the case's ids.
    static func openCase(_ client: some TestClientProtocol, _ token: String, town: String) async throws -> (client: String, case: String) {
        let clientID = try await CaseWorkflowTests.register(client, token, json: CaseWorkflowTests.amira + #","place_of_residence":"\#(town)""#)
        return (clientID, try await CaseWorkflowTests.openCase(client, token, clientID).id)
    }

    static func refer(_ client: some TestClientProtocol, _ token: String, town: String, to service: String) async throws -> TestResponse {
        let caseID = try await openCase(client, token, town: town).case
        return try await client.api(
            .post,
            "/api/v1/cases/\(caseID)/referrals",
            token: token,
            json: #"{"service_id":"\#(service)","reason":"Familie braucht Unterstützung","consent_given_on":"2026-02-01"}"#
        )
    }

    @Test func wittensJugendamtReceivesWittensReferralAloneAndReportsToWittensTeam() async throws {
        try await TestApp.with { db, people, client in
            let office = try await Self.account(db, "ja@witten-jugendamt.test", "witten-jugendamt", [.counsellor])
            let officeReporter = try await Self.account(db, "asd@witten-jugendamt.test", "witten-jugendamt", [.partner])
            let wittenABH = try await Self.account(db, "b@witten-abh.test", "witten-abh", [.counsellor])
            let awo = try await Self.account(db, "b@awo-en.test", "awo-en", [.counsellor])
            let cm = people["wittenCM"].token
            let service = try await Self.serviceID(client, cm, named: "Hilfen zur Erziehung und Familienberatung – Jugendamt Witten")
            let sent = try await Self.refer(client, cm, town: "Witten", to: service)
            #expect(sent.status == .created, "\(sent.text)")
            let referral = try #require(sent.object["id"] as? String)
            #expect(sent.object["receiver"] as? String == "witten-jugendamt")

            #expect(try await client.api(.get, "/api/v1/referrals/incoming", token: office).array.map { $0["id"] as? String } == [referral])
            #expect(try await client.api(.get, "/api/v1/referrals/\(referral)", token: office).status == .ok)
            // Witten's case workers sent it: it is not in their incoming list, and they do not answer it.
            #expect(try await client.api(.get, "/api/v1/referrals/incoming", token: cm).array.isEmpty)
            let selfAnswer = try await client.api(.post, "/api/v1/referrals/\(referral)/responses", token: cm, json: #"{"kind":"accepted"}"#)
            #expect(selfAnswer.status == .notFound)
            // Witten's other office, other carriers, other towns: nothing.
            for other in [wittenABH, awo, people["hattingenCM"].token] {
                #expect(try await client.api(.get, "/api/v1/referrals/incoming", token: other).array.isEmpty)
                #expect(try await client.api(.get, "/api/v1/referrals/\(referral)", token: other).status == .notFound)
            }
            let accepted = try await client.api(.post, "/api/v1/referrals/\(referral)/responses", token: office, json: #"{"kind":"accepted"}"#)
            #expect(accepted.status == .created, "\(accepted.text)")

            // The Jugendamt's own staff report a level-2 case to Witten's team (section 6's constellation).
            let report = try await client.api(.post, "/api/v1/reports", token: officeReporter, json: Level2ReportTests.report)
            #expect(report.status == .created, "\(report.text)")
            #expect(report.object["channel"] as? String == "level2_internal")
            let id = try #require(report.object["id"] as? String)
            #expect(try await client.api(.get, "/api/v1/reports/inbox", token: cm).array.contains { $0["id"] as? String == id })
            #expect(try await client.api(.get, "/api/v1/reports/inbox", token: people["hattingenCM"].token).array.isEmpty)
        }
    }

    @Test func aCarriersCounsellorsReceiveTheReferralsOfItsOwnCaseWorkers() async throws {
        try await TestApp.with { db, people, client in
            // VHS EN Süd carries out Breckerfeld's case management and runs a housing service of its own.
            let vhsCM = try await Self.account(db, "cm@vhs.test", "vhs-en-sued", [.caseManager])
            let vhsCounsellor = try await Self.account(db, "beratung@vhs.test", "vhs-en-sued", [.counsellor])
            let service = try await Self.serviceID(client, vhsCM, named: "Beratung bei der Wohnungssuche")
            let sent = try await Self.refer(client, vhsCM, town: "Breckerfeld", to: service)
            #expect(sent.status == .created, "\(sent.text)")
            let referral = try #require(sent.object["id"] as? String)

            // Before: `incoming` left out the own tenant, so nobody ever received it.
            #expect(try await client.api(.get, "/api/v1/referrals/incoming", token: vhsCounsellor).array.map { $0["id"] as? String } == [referral])
            #expect(try await client.api(.get, "/api/v1/referrals/incoming", token: vhsCM).array.isEmpty)
            // The counsellor's work queue on the start page lists it; the case worker who sent it does not get it there.
            let queue = { (token: String) in
                try await WorkQueue(database: db.app, policy: Policy()).start(for: try await WorkQueueTests.identity(db, token)).items.map(\.kind)
            }
            #expect(try await queue(vhsCounsellor).contains("referral"))
            #expect(try await !queue(vhsCM).contains("referral"))
            let selfAnswer = try await client.api(.post, "/api/v1/referrals/\(referral)/responses", token: vhsCM, json: #"{"kind":"accepted"}"#)
            #expect(selfAnswer.status == .notFound)
            for other in [people["wittenCM"].token, people["hattingenCM"].token] {
                #expect(try await client.api(.get, "/api/v1/referrals/\(referral)", token: other).status == .notFound)
            }
            let accepted = try await client.api(
                .post,
                "/api/v1/referrals/\(referral)/responses",
                token: vhsCounsellor,
                json: #"{"kind":"accepted"}"#
            )
            #expect(accepted.status == .created, "\(accepted.text)")
        }
    }

    @Test func aServiceOfTheTownsOwnTenantIsRefusedNotLost() async throws {
        try await TestApp.with { _, people, client in
            let created = try await client.api(
                .post,
                "/api/v1/services",
                token: people["coordinator"].token,
                json:
                    #"{"name":"Beratung im Bürgerbüro","programme":"mbe","carrier":"witten","towns":["witten"],"languages":["de"],"legal_spheres":["AufenthG"]}"#
            )
            #expect(created.status == .created, "\(created.text)")
            let service = try #require(created.object["id"] as? String)
            // Before: 201, and the referral reached nobody.
            let sent = try await Self.refer(client, people["wittenCM"].token, town: "Witten", to: service)
            #expect(sent.status == .unprocessableContent, "\(sent.text)")
            #expect(sent.text.contains("service_id"))
            #expect(sent.text.contains("Stadt Witten selbst"))
        }
    }
}
