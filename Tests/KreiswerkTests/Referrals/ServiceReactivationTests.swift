import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Kreiswerk

/// A retired service can be offered again (issue 20): by its carrier's administrators and counsellors and the district's
/// coordinators, at the version it was read (a stale one is 412), audited, with its past referrals kept; another carrier
/// gets 404, and the page offers it again in one step that says what it did.
@Suite struct ServiceReactivationTests {
    static func audited(_ db: TestDatabase, _ action: String, _ id: String) async throws -> Int {
        try await db.owner.withTransaction {
            try await $0.query("SELECT count(*)::integer FROM audit_log WHERE action = \(action) AND object_id = \(id)", logger: TestDatabase.logger)
                .collect().first!.decode(Int.self)
        }
    }

    @Test func aRetiredServiceIsOfferedAgainWithItsReferralsKept() async throws {
        try await TestApp.with { db, people, client in
            let staff = try await ServiceDirectoryTests.carrierStaff(db)
            let cm = people["wittenCM"].token
            let awo = staff["awoCounsellor"]!
            let entry = try #require(
                try await client.api(.get, "/api/v1/services", token: cm).array.first { $0["key"] as? String == "mbe-awo" }
            )
            let id = try #require(entry["id"] as? String)
            let sent = try await OwnAdministrationReferralTests.refer(client, cm, town: "Witten", to: id)
            #expect(sent.status == .created, "\(sent.text)")
            let caseID = try #require(sent.object["case_id"] as? String)

            let version = try #require(entry["version"] as? Int)
            let retired = try await client.api(.post, "/api/v1/services/\(id)/retire", token: awo, headers: [.ifMatch: "\"\(version)\""])
            #expect(retired.status == .ok, "\(retired.text)")
            #expect(!ServiceDirectoryTests.keys(try await client.api(.get, "/api/v1/services", token: cm)).contains("mbe-awo"))

            // Offering it again: 428 without a version, 412 on the old one, 404 for another carrier, 409 when offered already.
            #expect(try await client.api(.post, "/api/v1/services/\(id)/reactivate", token: awo).status == .preconditionRequired)
            let stale = try await client.api(.post, "/api/v1/services/\(id)/reactivate", token: awo, headers: [.ifMatch: "\"\(version)\""])
            #expect(stale.status == .preconditionFailed, "\(stale.text)")
            let foreign = try await client.api(
                .post,
                "/api/v1/services/\(id)/reactivate",
                token: staff["caritasCounsellor"],
                headers: [.ifMatch: "\"\(version + 1)\""]
            )
            #expect(foreign.status == .notFound)
            #expect(
                try await client.api(.post, "/api/v1/services/\(id)/reactivate", token: cm, headers: [.ifMatch: "\"\(version + 1)\""]).status
                    == .forbidden
            )
            let offered = try await client.api(.post, "/api/v1/services/\(id)/reactivate", token: awo, headers: [.ifMatch: "\"\(version + 1)\""])
            #expect(offered.status == .ok, "\(offered.text)")
            #expect(offered.object["active"] as? Bool == true)
            #expect(offered.object["version"] as? Int == version + 2)
            #expect(offered.headers[.eTag] == "\"\(version + 2)\"")
            let again = try await client.api(.post, "/api/v1/services/\(id)/reactivate", token: awo, headers: [.ifMatch: "\"\(version + 2)\""])
            #expect(again.status == .conflict)
            #expect(ServiceDirectoryTests.keys(try await client.api(.get, "/api/v1/services", token: cm)).contains("mbe-awo"))
            #expect(try await Self.audited(db, "service.reactivated", id) == 1)

            // The referral sent before it was retired is still there, for the sender and the carrier.
            let referrals = try await client.api(.get, "/api/v1/cases/\(caseID)/referrals", token: cm).array
            #expect(referrals.count == 1)
            #expect(try await client.api(.get, "/api/v1/referrals/incoming", token: awo).array.count == 1)
        }
    }

    @Test func theCoordinatorOffersARetiredServiceAgainOnItsPage() async throws {
        try await TestApp.with { _, people, client in
            let coordinator = people["coordinator"].token
            let entry = try #require(
                try await client.api(.get, "/api/v1/services", token: coordinator).array.first { $0["key"] as? String == "mbe-awo" }
            )
            let id = try #require(entry["id"] as? String).lowercased()
            var browser = WebBrowser()
            _ = try await browser.signIn(people["coordinator"].email, client)
            let page = try await browser.get("/angebote/\(id)", client)
            #expect(!page.text.contains("Wieder anbieten"))
            let retired = try await browser.post("/angebote/\(id)/beenden", [("version", "\(entry["version"] as? Int ?? 0)")], client)
            let location = try #require(retired.headers[.location])
            let retiredPage = try await browser.get(location, client)
            #expect(retiredPage.text.contains("Dieses Angebot ist beendet"))
            #expect(retiredPage.text.contains("action=\"/angebote/\(id)/wieder-anbieten\""))
            #expect(!retiredPage.text.contains("Angebot beenden"))
            let version = (entry["version"] as? Int ?? 0) + 1
            let offered = try await browser.post("/angebote/\(id)/wieder-anbieten", [("version", "\(version)")], client)
            #expect(offered.status == .seeOther || offered.status == .found, "\(offered.text)")
            let offeredPage = try await browser.get(try #require(offered.headers[.location]), client)
            #expect(offeredPage.text.contains("Angebot wird wieder angeboten"))
            #expect(!offeredPage.text.contains("Dieses Angebot ist beendet"))
            #expect(offeredPage.text.contains("Angebot beenden"))
            // A second submission of the old form says what happened instead of failing.
            let stale = try await browser.post("/angebote/\(id)/wieder-anbieten", [("version", "\(version)")], client)
            #expect(stale.status == .conflict)
            #expect(stale.text.contains("inzwischen geändert"))
        }
    }
}
