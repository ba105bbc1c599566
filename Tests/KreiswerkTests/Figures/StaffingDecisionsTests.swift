import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import Testing

@testable import Kreiswerk

/// Staffing as the district decides it (issue 19, seed 004 section 5): the shipped tenant files reproduce the seed's table
/// of posts for 2020–2022, the district's own 3.5 + 0.5 posts and Witten's waiver; the allocation key proposes and the
/// coordinators decide (the decision may differ), versioned (412 when stale) and audited; another district sees nothing.
@Suite struct StaffingDecisionsTests {
    /// The seed's table of case-management posts ("Die Entwicklung der Stellenverteilung"), 2020, 2021, 2022; nil: "-".
    static let seedTable: [(String, Double?, Double?, Double)] = [
        ("breckerfeld", 0.2, 0.3, 0.6), ("ennepetal", 0.65, 0.75, 1.5), ("gevelsberg", 0.65, 0.75, 1.5), ("hattingen", 1, 1, 2.0),
        ("herdecke", 0.5, 0.5, 1.0), ("schwelm", 0.5, 0.65, 0.65), ("sprockhoevel", 0.5, 0.65, 1.24), ("wetter-ruhr", 0.5, 0.65, 1.3),
        ("witten", 1.5, 1.75, 2.0), ("awo-en", nil, nil, 1.0), ("caritas-en", nil, nil, 0.71), ("drk-witten", nil, nil, 0.5),
    ]

    static func fte(_ value: Double) -> String { String(format: "%.2f", value) }

    @Test func theShippedFilesReproduceTheSeedsTableOfPosts() throws {
        let tenants = Dictionary(uniqueKeysWithValues: try TenantFiles.load(from: TestDatabase.tenantsDirectory).map { ($0.slug, $0) })
        for (slug, y2020, y2021, y2022) in Self.seedTable {
            let shares = try #require(tenants[slug]).staffShares
            #expect(
                shares[StaffShareKey(.caseManagement, 2020)]?.description == y2020.map { FullTimeEquivalent(Self.fte($0))!.description },
                "\(slug)"
            )
            #expect(
                shares[StaffShareKey(.caseManagement, 2021)]?.description == y2021.map { FullTimeEquivalent(Self.fte($0))!.description },
                "\(slug)"
            )
            #expect(shares[StaffShareKey(.caseManagement, 2022)] == FullTimeEquivalent(Self.fte(y2022)), "\(slug)")
        }
        let district = try #require(tenants["en-kreis"])
        for year in 2020...2022 {
            #expect(district.staffShares[StaffShareKey(.coordination, year)] == FullTimeEquivalent(hundredths: 350))
            #expect(district.staffShares[StaffShareKey(.assistance, year)] == FullTimeEquivalent(hundredths: 50))
        }
        #expect(tenants["en-kreis-abh"]?.staffShares[StaffShareKey(.immigrationOffice, 2020)] == FullTimeEquivalent(hundredths: 100))
        #expect(tenants["en-kreis-abh"]?.staffShares[StaffShareKey(.immigrationOffice, 2021)] == FullTimeEquivalent(hundredths: 150))
        // Witten is entitled to its own coordination post and waives it, with the reason, as data.
        let witten = try #require(tenants["witten"])
        #expect(witten.isEntitledToOwnCoordinationPost)
        #expect(witten.staffWaivers[.coordination]?.contains("sieht jedoch von der Beantragung ab") == true)
        #expect(tenants["witten-abh"]?.staffWaivers[.immigrationOffice]?.contains("nicht") == true)
        // The waiver is written back out with the file.
        #expect(TenantFileExport.yaml(witten).contains("staff_waivers:\n  coordination: \"Die Stadt Witten"))
    }

    @Test func aWaiverOfAnUnknownProgrammeIsReportedWithItsField() async throws {
        try await withTemporaryDirectory { folder in
            try copyContents(of: TestDatabase.tenantsDirectory, to: folder)
            let file = folder.appendingPathComponent("en-kreis/witten.yaml")
            let text = try String(contentsOf: file, encoding: .utf8)
            try (text + "\n").replacingOccurrences(of: #"coordination: "Die Stadt"#, with: #"tanzen: "Die Stadt"#)
                .write(to: file, atomically: true, encoding: .utf8)
            let error = #expect(throws: TenantFilesInvalid.self) { try TenantFiles.load(from: folder) }
            #expect(error?.description.contains("staff_waivers") == true, "\(String(describing: error))")
        }
    }

    @Test func theAPIReproducesThe2022TableFromTheShippedData() async throws {
        try await TestApp.with { _, people, client in
            let response = try await client.api(.get, "/api/v1/staffing/decisions?year=2022", token: people["coordinator"].token)
            #expect(response.status == .ok, "\(response.text)")
            let totals = Dictionary(
                uniqueKeysWithValues: (response.object["totals"] as? [[String: Any]] ?? []).map { ($0["group"] as! String, $0["fte"] as! String) }
            )
            #expect(totals == ["towns": "11.79", "carriers": "2.21", "coordination": "3.50", "assistance": "0.50"], "\(totals)")
            let entries = response.object["entries"] as? [[String: Any]] ?? []
            #expect(entries.allSatisfy { $0["year"] as? Int == 2022 })
            for (slug, _, _, y2022) in Self.seedTable {
                let entry = entries.first { $0["tenant"] as? String == slug && $0["programme"] as? String == "case_management" }
                #expect(entry?["fte"] as? String == Self.fte(y2022), "\(slug)")
                #expect(entry?["file_fte"] as? String == Self.fte(y2022), "\(slug)")
                #expect(entry?["version"] as? Int == 0 && entry?["decided_fte"] == nil, "\(slug): no decision recorded")
            }
            // 2020 and 2021: 6 and 7 posts to the towns, nothing to carriers.
            for (year, towns) in [(2020, "6.00"), (2021, "7.00")] {
                let plan = try await client.api(.get, "/api/v1/staffing/decisions?year=\(year)", token: people["steering"].token).object
                let groups = (plan["totals"] as? [[String: Any]] ?? []).map { "\($0["group"]!)=\($0["fte"]!)" }
                #expect(groups.contains("towns=\(towns)") && !groups.contains { $0.hasPrefix("carriers") }, "\(groups)")
            }
            // The waiver, with its reason.
            let waivers = response.object["waivers"] as? [[String: Any]] ?? []
            #expect(waivers.contains { $0["tenant"] as? String == "witten" && $0["programme"] as? String == "coordination" })
            // Witten's history on its own.
            let witten = try await client.api(.get, "/api/v1/staffing/tenants/witten", token: people["assistant"].token)
            #expect(witten.status == .ok)
            #expect((witten.object["entries"] as? [[String: Any]] ?? []).map { $0["fte"] as? String } == ["1.50", "1.75", "2.00"])
            #expect((witten.object["tenants"] as? [[String: Any]])?.first?["entitled_to_coordination_post"] as? Bool == true)

            #expect(try await client.api(.get, "/api/v1/staffing/decisions", token: people["wittenCM"].token).status == .forbidden)
            let bad = try await client.api(.get, "/api/v1/staffing/decisions?year=zweitausend", token: people["coordinator"].token)
            #expect(bad.status == .unprocessableContent && (bad.object["errors"] as? [String: String])?["year"] != nil)
        }
    }

    static func decide(
        _ client: some TestClientProtocol,
        _ token: String,
        _ slug: String,
        version: String?,
        _ body: String
    ) async throws -> TestResponse {
        try await client.api(
            .put,
            "/api/v1/staffing/tenants/\(slug)/decision",
            token: token,
            json: body,
            headers: version.map { [.ifMatch: "\"\($0)\""] } ?? [:]
        )
    }

    @Test func theDistrictDecidesOtherwiseThanProposedVersionedAndAudited() async throws {
        try await TestApp.with { db, people, client in
            let token = people["coordinator"].token
            // 2022: the key proposed Sprockhövel's full increase (1.30); the town takes 1.24.
            let body =
                #"{"programme":"case_management","year":2022,"proposed_fte":1.3,"decided_fte":"1,24","reason":"Die Stadt nimmt nicht die komplette Stellenerhöhung in Anspruch."}"#
            let first = try await Self.decide(client, token, "sprockhoevel", version: "0", body)
            #expect(first.status == .ok, "\(first.text)")
            #expect(first.headers[.eTag] == "\"1\"")
            #expect(first.object["proposed_fte"] as? String == "1.30" && first.object["decided_fte"] as? String == "1.24")
            #expect(first.object["fte"] as? String == "1.24" && first.object["decided_by"] as? String == "coordinator")

            // The same first decision again: someone recorded one since → 412; without If-Match → 428.
            #expect(try await Self.decide(client, token, "sprockhoevel", version: "0", body).status == .preconditionFailed)
            #expect(try await Self.decide(client, token, "sprockhoevel", version: nil, body).status == .preconditionRequired)
            // A change on version 1 → 2; a second change still on version 1 is stale.
            let changed = try await Self.decide(
                client,
                token,
                "sprockhoevel",
                version: "1",
                #"{"programme":"case_management","year":2022,"proposed_fte":"1.30","decided_fte":"1.24","reason":"Nach Rücksprache mit der Stadt bestätigt."}"#
            )
            #expect(changed.status == .ok && changed.headers[.eTag] == "\"2\"", "\(changed.text)")
            let stale = try await Self.decide(client, token, "sprockhoevel", version: "1", body)
            #expect(stale.status == .preconditionFailed && stale.text.contains("seit Sie sie geöffnet haben"), "\(stale.text)")

            // A decision for the coming year, against the proposal: Witten's full share would be 3.5.
            let witten = try await Self.decide(
                client,
                token,
                "witten",
                version: "0",
                #"{"programme":"case_management","year":2023,"proposed_fte":"3.5","decided_fte":"2","reason":"Witten behält 2,0 Stellen."}"#
            )
            #expect(witten.status == .ok, "\(witten.text)")
            let history = try await client.api(.get, "/api/v1/staffing/tenants/witten", token: token).object["entries"] as? [[String: Any]] ?? []
            #expect(history.map { $0["year"] as? Int } == [2020, 2021, 2022, 2023])
            #expect(history.last?["proposed_fte"] as? String == "3.50" && history.last?["fte"] as? String == "2.00")
            #expect(history.last?["file_fte"] == nil && history.last?["version"] as? Int == 1)

            // The 2022 totals still match the seed: the decision equals the file's 1.24.
            let plan = try await client.api(.get, "/api/v1/staffing/decisions?year=2022", token: token).object
            #expect((plan["totals"] as? [[String: Any]] ?? []).contains { $0["group"] as? String == "towns" && $0["fte"] as? String == "11.79" })

            // Audited.
            let actions = try await db.owner.withTransaction { connection in
                try await connection.query(
                    "SELECT action FROM audit_log WHERE object_type = 'staffing_decision' ORDER BY action",
                    logger: TestDatabase.logger
                ).collect().map { try $0.decode(String.self) }
            }
            #expect(actions == ["staffing.decided", "staffing.decided", "staffing.decided"])

            // Only the coordinators decide.
            #expect(try await Self.decide(client, people["assistant"].token, "witten", version: "1", body).status == .forbidden)
            #expect(try await Self.decide(client, people["steering"].token, "witten", version: "1", body).status == .forbidden)
        }
    }

    @Test func badInputNamesEachFieldAndAnotherDistrictGets404() async throws {
        try await TestApp.with { db, people, client in
            let token = people["coordinator"].token
            let bad = try await Self.decide(
                client,
                token,
                "witten",
                version: "0",
                #"{"programme":"tanzen","year":1999,"proposed_fte":"viel","decided_fte":"-1","reason":"  "}"#
            )
            #expect(bad.status == .unprocessableContent, "\(bad.text)")
            let errors = bad.object["errors"] as? [String: String] ?? [:]
            #expect(Set(errors.keys) == ["programme", "year", "proposed_fte", "decided_fte", "reason"], "\(errors)")
            #expect(errors["decided_fte"]?.contains("zwei Nachkommastellen") == true)
            #expect(try await Self.decide(client, token, "witten", version: "0", "[").status == .badRequest)
            // A third decimal is refused, not rounded.
            let rounded = try await Self.decide(
                client,
                token,
                "witten",
                version: "0",
                #"{"programme":"case_management","year":2023,"decided_fte":1.245,"reason":"Test"}"#
            )
            #expect(rounded.status == .unprocessableContent && (rounded.object["errors"] as? [String: String])?["decided_fte"] != nil)

            let good = #"{"programme":"case_management","year":2023,"decided_fte":"1","reason":"Test"}"#
            #expect(try await Self.decide(client, token, "bochum", version: "0", good).status == .notFound)

            let other = try await LadderTests.otherDistrictsCoordinator(db)
            #expect(try await client.api(.get, "/api/v1/staffing/tenants/witten", token: other).status == .notFound)
            #expect(try await Self.decide(client, other, "witten", version: "0", good).status == .notFound)
            let theirs = try await client.api(.get, "/api/v1/staffing/decisions", token: other)
            #expect(theirs.status == .ok && !theirs.text.contains("witten") && !theirs.text.contains("11.79"), "\(theirs.text)")
            // Nothing was written for Witten.
            let entries = try await client.api(.get, "/api/v1/staffing/tenants/witten", token: token).object["entries"] as? [[String: Any]]
            #expect(entries?.allSatisfy { $0["version"] as? Int == 0 } == true)

            // The database holds to it too: the district decides only for itself and its own tenants.
            let district = try #require(UUID(uuidString: try await CampaignTests.tenantID(db, "en-kreis")))
            let mettmann = try #require(UUID(uuidString: try await CampaignTests.tenantID(db, "kreis-mettmann")))
            let coordinator = people["coordinator"].id
            await #expect(throws: PSQLError.self) {
                try await db.app.withTenant(district, user: coordinator) { connection in
                    try await connection.query(
                        """
                        INSERT INTO staffing_decisions (tenant_id, subject_id, programme, year, decided_fte, reason, decided_by)
                        VALUES (\(district), \(mettmann), 'coordination', 2023, 1, 'Test', \(coordinator))
                        """,
                        logger: TestDatabase.logger
                    )
                }
            }
        }
    }

    @Test func thePageShowsProposalAndDecisionPerYearAndTheHistory() async throws {
        try await TestApp.with { _, people, client in
            var browser = WebBrowser()
            _ = try await browser.signIn(people["coordinator"].email, client)
            var page = try await browser.get("/kennzahlen/personal/entscheidungen?jahr=2022", client)
            #expect(page.status == .ok)
            #expect(page.text.contains("11,79") && page.text.contains("2,21") && page.text.contains("3,50"))
            #expect(page.text.contains("sieht jedoch von der Beantragung ab"))
            #expect(page.text.contains(#"id="staffing-history""#) && page.text.contains("Caritasverband Ennepe-Ruhr"))
            #expect(page.text.contains(#"<option value="">Bitte wählen</option>"#) && !page.text.contains(" selected>"))

            // Nothing chosen, bad numbers: 422 naming each field.
            let wrong = try await browser.post(
                "/kennzahlen/personal/entscheidungen",
                [("year", "2022"), ("subject", ""), ("proposed_fte", "x"), ("decided_fte", ""), ("reason", "")],
                client
            )
            #expect(wrong.status == .unprocessableContent)
            for text in ["Bitte wählen, für welchen Mandanten", "Vorschlag als Stellenzahl", "entschiedenen Stellen", "begründen"] {
                #expect(wrong.text.contains(text), "\(text)")
            }

            // The row's link chooses it; the decision is saved and said so.
            page = try await browser.get("/kennzahlen/personal/entscheidungen?jahr=2022&eintrag=schwelm:case_management", client)
            #expect(page.text.contains(#"<option value="schwelm|case_management|0" selected>"#))
            let saved = try await browser.post(
                "/kennzahlen/personal/entscheidungen",
                [
                    ("year", "2022"), ("subject", "schwelm|case_management|0"), ("proposed_fte", "1,3"), ("decided_fte", "0,65"),
                    ("reason", "Schwelm nimmt die Erhöhung nicht in Anspruch."),
                ],
                client
            )
            #expect(saved.status == .seeOther, "\(saved.text)")
            page = try await browser.get(try #require(saved.headers[.location]), client)
            #expect(page.text.contains("Entscheidung gespeichert: Stadt Schwelm, Case Management (Baustein II), 2022: 0,65 Stellen, Vorschlag 1,30."))
            #expect(page.text.contains("weicht vom Vorschlag ab") && page.text.contains("(entschieden)"))

            // The same form sent again is stale.
            let stale = try await browser.post(
                "/kennzahlen/personal/entscheidungen",
                [("year", "2022"), ("subject", "schwelm|case_management|0"), ("decided_fte", "1"), ("reason", "Doch mehr.")],
                client
            )
            #expect(stale.status == .preconditionFailed && stale.text.contains("neu laden"))

            // From the allocation key to the decision: the proposal is carried into the form, not decided.
            _ = try await browser.get("/kennzahlen/personal", client)
            let proposed = try await browser.post(
                "/kennzahlen/personal",
                [("total_fte", "14"), ("year", "2023"), ("refugees_witten", "1800"), ("refugees_hattingen", "950")],
                client
            )
            #expect(proposed.status == .ok && proposed.text.contains("Entscheidung 2023"))
            let link = "/kennzahlen/personal/entscheidungen?jahr=2023&eintrag=witten:case_management&vorschlag=9.16#entscheidung"
            #expect(proposed.text.contains(link.replacingOccurrences(of: "&", with: "&amp;")), "\(proposed.text)")
            page = try await browser.get(String(link.prefix { $0 != "#" }), client)
            #expect(page.text.contains(#"<option value="witten|case_management|0" selected>"#))
            #expect(page.text.contains(#"name="proposed_fte" type="text" inputmode="decimal" value="9,16""#))
            #expect(page.text.contains("Für 2023 sind weder Stellenanteile noch Entscheidungen eingetragen."))
            let badYear = try await browser.post("/kennzahlen/personal", [("total_fte", "14"), ("year", "nächstes")], client)
            #expect(badYear.status == .unprocessableContent && badYear.text.contains("Jahr des Vorschlags"))

            // Steering members read, without the form.
            var steering = WebBrowser()
            _ = try await steering.signIn(people["steering"].email, client)
            let read = try await steering.get("/kennzahlen/personal/entscheidungen?jahr=2022", client)
            #expect(read.status == .ok && read.text.contains("0,65") && !read.text.contains(#"id="decision""#))
        }
    }
}
