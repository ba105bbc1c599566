import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Kreiswerk

/// The allocation key's arithmetic, and the staffing page and API.
@Suite struct StaffingTests {
    @Test func fourteenPostsOverNineTownsAddUpExactly() {
        let refugees = [1800, 950, 1210, 640, 530, 480, 300, 420, 170]
        let shares = AllocationKey.allocate(FullTimeEquivalent(hundredths: 1400), weights: refugees)
        #expect(shares.reduce(.zero, +) == FullTimeEquivalent(hundredths: 1400))
        // Each share is its exact quota rounded down or up by one hundredth.
        let sum = refugees.reduce(0, +)
        for (share, weight) in zip(shares, refugees) {
            let exact = Double(1400 * weight) / Double(sum)
            #expect(Double(share.hundredths) >= exact.rounded(.down) && Double(share.hundredths) <= exact.rounded(.up))
        }
    }

    @Test func remaindersGoToTheLargestAndTiesToTheLargerTown() {
        // 1.00 over three equal towns: 0.34, 0.33, 0.33 (the tie goes to the first).
        #expect(AllocationKey.allocate(FullTimeEquivalent(hundredths: 100), weights: [1, 1, 1]).map(\.hundredths) == [34, 33, 33])
        // 0.10 over 2:1 → 0.0667 and 0.0333: 0.07 and 0.03.
        #expect(AllocationKey.allocate(FullTimeEquivalent(hundredths: 10), weights: [2, 1]).map(\.hundredths) == [7, 3])
        #expect(AllocationKey.allocate(FullTimeEquivalent(hundredths: 500), weights: [0, 3, 0]).map(\.hundredths) == [0, 500, 0])
        #expect(AllocationKey.allocate(FullTimeEquivalent(hundredths: 500), weights: [0, 0]).map(\.hundredths) == [0, 0])
        for total in [1, 7, 99, 1399, 2500] {
            #expect(
                AllocationKey.allocate(FullTimeEquivalent(hundredths: total), weights: [7, 13, 29, 3, 1]).reduce(0) { $0 + $1.hundredths } == total
            )
        }
    }

    @Test func theCoordinationPostRuleNeedsAllThree() {
        #expect(CoordinationPostRule.entitled(foreignersAuthority: true, youthOffice: true, integrationCouncil: true) == true)
        #expect(CoordinationPostRule.entitled(foreignersAuthority: false, youthOffice: nil, integrationCouncil: nil) == false)
        #expect(CoordinationPostRule.entitled(foreignersAuthority: true, youthOffice: nil, integrationCouncil: true) == nil)
    }

    @Test func theAPIProposesAndComparesWithTheTenantFiles() async throws {
        try await TestApp.with { _, people, client in
            let token = people["coordinator"].token
            let body =
                #"{"total_fte":"14","towns":[{"town":"witten","refugees":1800},{"town":"hattingen","refugees":950},{"town":"breckerfeld","refugees":170}]}"#
            let response = try await client.api(.post, "/api/v1/staffing/allocation", token: token, json: body)
            #expect(response.status == .ok, "\(response.text)")
            let towns = try #require(response.object["towns"] as? [[String: Any]])
            let total = towns.compactMap { ($0["proposed_fte"] as? String).flatMap(FullTimeEquivalent.init) }.reduce(.zero, +)
            #expect(total == FullTimeEquivalent(hundredths: 1400))
            let witten = try #require(towns.first { $0["town"] as? String == "witten" })
            #expect(witten["funded_fte"] as? String == "2.00" && witten["funded_year"] as? Int == 2022)
            #expect(witten["entitled_to_coordination_post"] as? Bool == true)
            #expect(towns.first { $0["town"] as? String == "hattingen" }?["entitled_to_coordination_post"] as? Bool == false)

            let bad = try await client.api(
                .post,
                "/api/v1/staffing/allocation",
                token: token,
                json: #"{"total_fte":"vierzehn","towns":[{"town":"bochum","refugees":-1}]}"#
            )
            #expect(bad.status == .unprocessableContent)
            let errors = bad.object["errors"] as? [String: String] ?? [:]
            #expect(errors["total_fte"] != nil && errors["towns"] != nil && errors["refugees_bochum"] != nil)
            #expect(
                try await client.api(.post, "/api/v1/staffing/allocation", token: token, json: #"{"total_fte":1,"towns":[]}"#).status
                    == .unprocessableContent
            )
            #expect(try await client.api(.post, "/api/v1/staffing/allocation", token: people["wittenCM"].token, json: body).status == .forbidden)
        }
    }

    @Test func thePageComputesTheKeyAndExplainsBadInput() async throws {
        try await TestApp.with { _, people, client in
            var browser = WebBrowser()
            _ = try await browser.signIn(people["coordinator"].email, client)
            let page = try await browser.get("/kennzahlen/personal", client)
            #expect(page.status == .ok && page.text.contains("Stadt Witten"))
            let wrong = try await browser.post("/kennzahlen/personal", [("total_fte", "viel"), ("refugees_witten", "zwölf")], client)
            #expect(wrong.status == .unprocessableContent)
            #expect(wrong.text.contains("ganze Zahl") && wrong.text.contains("zwei Nachkommastellen"))
            let right = try await browser.post(
                "/kennzahlen/personal",
                [("total_fte", "14,5"), ("refugees_witten", "1.800"), ("refugees_hattingen", "950")],
                client
            )
            #expect(right.status == .ok)
            #expect(right.text.contains("Vorschlag: 14,50 Stellen für 2750 zugewiesene Geflüchtete"))
        }
    }
}
