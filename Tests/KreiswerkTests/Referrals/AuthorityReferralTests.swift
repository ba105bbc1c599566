import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Kreiswerk

/// Referrals to the areas with their own case management (issue 20, seed 004 section 6): a town's Jugendamt as an
/// authority tenant of the district publishes its service; a Witten case is referred to it, and the Jugendamt's staff see
/// the referral — and no other carrier or authority does.
@Suite struct AuthorityReferralTests {
    static let youthOffice = "slug: jugendamt-witten\nname: Jugendamt der Stadt Witten\nkind: authority\ndistrict: en-kreis\n"

    @Test func aReferralToWittensJugendamtIsSeenByItsStaffAndNoOneElse() async throws {
        try await TestApp.with { db, people, client in
            try await withTemporaryDirectory { folder in
                try copyContents(of: TestDatabase.tenantsDirectory, to: folder)
                try Self.youthOffice.write(
                    to: folder.appendingPathComponent("en-kreis").appendingPathComponent("jugendamt-witten.yaml"),
                    atomically: true,
                    encoding: .utf8
                )
                _ = try await TenantsFolder.apply(folder, database: db.owner)
            }
            let operators = OperatorAccounts(database: db.owner, passwords: Passwords(cost: 4))
            var tokens: [String: String] = [:]
            for (email, tenant) in [
                ("ja@jugendamt-witten.test", "jugendamt-witten"), ("b@awo-en.test", "awo-en"), ("b@en-kreis-abh.test", "en-kreis-abh"),
            ] {
                _ = try await operators.create(tenant: tenant, email: email, displayName: email, roles: [.counsellor], password: TestApp.password)
                tokens[tenant] = try await operators.createToken(email: email, name: "t", expiresInDays: 1).1.value
            }
            let published = try await client.api(
                .post,
                "/api/v1/services",
                token: tokens["jugendamt-witten"],
                json:
                    #"{"name":"Erziehungsberatung und Hilfen zur Erziehung","programme":"youth_welfare","towns":["witten"],"languages":["de","ar"],"legal_spheres":["SGB VIII"]}"#
            )
            #expect(published.status == .created, "\(published.text)")
            let service = try #require(published.object["id"] as? String)

            let cm = people["wittenCM"].token
            let clientID = try await CaseWorkflowTests.register(client, cm, json: CaseWorkflowTests.amira + #","place_of_residence":"Witten""#)
            let (caseID, _) = try await CaseWorkflowTests.openCase(client, cm, clientID)
            let sent = try await client.api(
                .post,
                "/api/v1/cases/\(caseID)/referrals",
                token: cm,
                json: #"{"service_id":"\#(service)","reason":"Familie braucht Unterstützung","consent_given_on":"2026-02-01"}"#
            )
            #expect(sent.status == .created, "\(sent.text)")
            let referral = try #require(sent.object["id"] as? String)

            let seen = try await client.api(.get, "/api/v1/referrals/incoming", token: tokens["jugendamt-witten"]).array
            #expect(seen.map { $0["id"] as? String } == [referral])
            for other in ["awo-en", "en-kreis-abh"] {
                #expect(try await client.api(.get, "/api/v1/referrals/incoming", token: tokens[other]).array.isEmpty, "\(other)")
                #expect(try await client.api(.get, "/api/v1/referrals/\(referral)", token: tokens[other]).status == .notFound, "\(other)")
            }
            #expect(try await client.api(.get, "/api/v1/referrals/\(referral)", token: people["hattingenCM"].token).status == .notFound)
            let answered = try await client.api(
                .post,
                "/api/v1/referrals/\(referral)/responses",
                token: tokens["jugendamt-witten"],
                json: #"{"kind":"accepted"}"#
            )
            #expect(answered.status == .created)
        }
    }
}
