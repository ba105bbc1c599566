import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresNIO
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

    /// A client named `name` living in Breckerfeld, with a case, referred to `service` with her hand-over consent: the
    /// client's id and the answer to the referral.
    static func referClient(
        named name: String,
        _ client: some TestClientProtocol,
        _ token: String,
        to service: String
    ) async throws -> (client: String, sent: TestResponse) {
        let json = CaseWorkflowTests.amira.replacingOccurrences(of: "Amira", with: name) + #","place_of_residence":"Breckerfeld""#
        let clientID = try await CaseWorkflowTests.register(client, token, json: json)
        let caseID = try await CaseWorkflowTests.openCase(client, token, clientID).id
        let sent = try await client.api(
            .post,
            "/api/v1/cases/\(caseID)/referrals",
            token: token,
            json: #"{"service_id":"\#(service)","reason":"Sucht eine Wohnung","consent_given_on":"2026-02-01"}"#
        )
        #expect(sent.status == .created, "\(sent.text)")
        return (clientID, sent)
    }

    /// The id of the client's hand-over consent.
    static func handoverConsent(of clientID: String, _ client: some TestClientProtocol, _ token: String) async throws -> String {
        let consents = try await client.api(.get, "/api/v1/clients/\(clientID)", token: token).object["consents"] as? [[String: Any]]
        return try #require(consents?.first { $0["scope"] as? String == "handover" }?["id"] as? String)
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

    /// A referral within the own house ends with the client's hand-over consent like one to another carrier (it carries a
    /// grant to the own tenant now): the withdrawal's confirmation names it, and afterwards the counsellors get 404 and no
    /// longer list it. A person holding both roles never answers a referral they sent themselves.
    @Test func anOwnTenantReferralEndsWithTheClientsConsentAndItsSenderNeverAnswersIt() async throws {
        try await TestApp.with { db, _, client in
            let vhsCM = try await Self.account(db, "cm@vhs.test", "vhs-en-sued", [.caseManager])
            let vhsCounsellor = try await Self.account(db, "beratung@vhs.test", "vhs-en-sued", [.counsellor])
            let both = try await Self.account(db, "beides@vhs.test", "vhs-en-sued", [.caseManager, .counsellor])
            let service = try await Self.serviceID(client, vhsCM, named: "Beratung bei der Wohnungssuche")
            let incoming = { (token: String) in
                try await client.api(.get, "/api/v1/referrals/incoming", token: token).array.compactMap { $0["id"] as? String }
            }
            let answer = { (referral: String, token: String) in
                try await client.api(.post, "/api/v1/referrals/\(referral)/responses", token: token, json: #"{"kind":"accepted"}"#)
            }

            // Someone who is case worker and counsellor at once refers: a colleague answers it, never they themselves.
            let ownSent = try await Self.refer(client, both, town: "Breckerfeld", to: service)
            #expect(ownSent.status == .created, "\(ownSent.text)")
            let own = try #require(ownSent.object["id"] as? String)
            #expect(try await !incoming(both).contains(own), "their own referral is not among those they receive")
            let selfAnswer = try await answer(own, both)
            // Before: 201, the sender accepted their own referral.
            #expect(selfAnswer.status == .forbidden, "\(selfAnswer.text)")
            #expect(selfAnswer.text.contains("selbst gesendet"))
            #expect(try await incoming(vhsCounsellor).contains(own))

            // A case worker refers Samira to the house's own counselling service, with her hand-over consent.
            let (clientID, sent) = try await Self.referClient(named: "Samira", client, vhsCM, to: service)
            let referral = try #require(sent.object["id"] as? String)
            let house = try #require(sent.object["receiver_name"] as? String)
            #expect(try await incoming(vhsCounsellor).contains(referral))
            #expect(try await client.api(.get, "/api/v1/referrals/\(referral)", token: vhsCounsellor).status == .ok)

            // The confirmation of withdrawing the hand-over consent names the referral among what the withdrawal ends.
            let consent = try await Self.handoverConsent(of: clientID, client, vhsCM)
            var browser = WebBrowser()
            _ = try await browser.signIn("cm@vhs.test", client)
            let confirm = try await browser.get("/klienten/\(clientID)/einwilligungen/\(consent)/widerruf", client)
            #expect(confirm.status == .ok)
            let losing = try #require(confirm.text.firstMatch(of: /<ul id="withdrawal-losing"[\s\S]*?<\/ul>/)?.0)
            // Before: "keine: Zurzeit hat keine Stelle Zugriff auf Grund dieser Einwilligung."
            #expect(
                losing.contains("Verweisung an Beratung bei der Wohnungssuche (Beratung im eigenen Haus, \(house)), vom "),
                "the own house's counselling loses access: \(losing)"
            )

            let withdrawn = try await client.api(.post, "/api/v1/clients/\(clientID)/consents/\(consent)/withdraw", token: vhsCM, json: "{}")
            #expect(withdrawn.status == .noContent, "\(withdrawn.text)")
            // Before: still 200, still listed, still answerable.
            #expect(try await client.api(.get, "/api/v1/referrals/\(referral)", token: vhsCounsellor).status == .notFound)
            #expect(try await !incoming(vhsCounsellor).contains(referral))
            #expect(try await answer(referral, vhsCounsellor).status == .notFound)
            #expect(try await incoming(vhsCounsellor).contains(own), "the other client's referral stays")
            let queue = try await WorkQueue(database: db.app, policy: Policy()).start(for: try await WorkQueueTests.identity(db, vhsCounsellor))
            #expect(queue.items.filter { $0.kind == "referral" }.count == 1, "only the referral still shared waits: \(queue.items)")
            // The case worker who sent it still reads it, with the receiver's access ended.
            let mine = try await client.api(.get, "/api/v1/referrals/\(referral)", token: vhsCM)
            #expect(mine.status == .ok)
            #expect(mine.object["grant_active"] as? Bool == false)
        }
    }

    /// Migration 0046: the own-tenant referrals of a database from before, which carried no grant, get one resting on the
    /// hand-over consent they were sent on while it holds; one whose consent was withdrawn stays ended.
    @Test func ownTenantReferralsSentBeforeGetTheirGrantWhileTheirConsentHolds() async throws {
        try await TestApp.with { db, _, client in
            let vhsCM = try await Self.account(db, "cm@vhs.test", "vhs-en-sued", [.caseManager])
            let vhsCounsellor = try await Self.account(db, "beratung@vhs.test", "vhs-en-sued", [.counsellor])
            let service = try await Self.serviceID(client, vhsCM, named: "Beratung bei der Wohnungssuche")
            let (holdingClient, sent) = try await Self.referClient(named: "Amira", client, vhsCM, to: service)
            let holding = try #require(sent.object["id"] as? String)
            let (withdrawing, _) = try await Self.referClient(named: "Samira", client, vhsCM, to: service)
            let consent = try await Self.handoverConsent(of: withdrawing, client, vhsCM)
            let withdrawn = try await client.api(.post, "/api/v1/clients/\(withdrawing)/consents/\(consent)/withdraw", token: vhsCM, json: "{}")
            #expect(withdrawn.status == .noContent, "\(withdrawn.text)")

            // As before 0046: no grant at all on a referral within the own tenant.
            let owner = db.owner.client
            try await owner.query("DELETE FROM access_grants WHERE object_type = 'referral'", logger: TestDatabase.logger)
            #expect(try await client.api(.get, "/api/v1/referrals/incoming", token: vhsCounsellor).array.isEmpty)
            let migration = try String(
                contentsOf: TestDatabase.migrationsDirectory.appendingPathComponent("0046_own_tenant_referral_grants.sql"),
                encoding: .utf8
            )
            let backfill = try #require(migration.range(of: "INSERT INTO access_grants")).lowerBound
            try await owner.query(PostgresQuery(unsafeSQL: String(migration[backfill...])), logger: TestDatabase.logger)

            let granted = try await owner.query(
                "SELECT object_id, consent_id FROM access_grants WHERE revoked_at IS NULL AND grantee_tenant_id = tenant_id",
                logger: TestDatabase.logger
            ).collect().map { try $0.decode((UUID, UUID).self) }
            #expect(granted.map(\.0) == [UUID(uuidString: holding)!])
            #expect(try await client.api(.get, "/api/v1/referrals/incoming", token: vhsCounsellor).array.map { $0["id"] as? String } == [holding])
            // The grant rests on the consent it was sent on, so that withdrawing that ends it as for any referral.
            #expect(granted.map(\.1) == [UUID(uuidString: try await Self.handoverConsent(of: holdingClient, client, vhsCM))!])
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
