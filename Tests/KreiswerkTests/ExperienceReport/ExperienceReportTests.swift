import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import Testing

@testable import Kreiswerk

/// The experience report (Erfahrungsbericht, issue 21): the coordinators write it per half-year beside the period's
/// figures and release it for the state; the released figures are frozen; nothing typed is lost to a concurrent save;
/// nobody outside the district's coordinators, assistants and steering group reads it, and the export holds counts only.
@Suite struct ExperienceReportTests {
    static let base = "/api/v1/districts/en-kreis/experience-reports"
    /// A past half-year: releasable whenever the suite runs.
    static let period = ExperienceReports.recent(.today)[1].description

    static func allSections(_ prefix: String = "Text") -> String {
        let fields = ReportSection.allCases.map { "\"\($0.rawValue)\":\"\(prefix) zu \($0.heading)\"" }
        return "{\"sections\":{\(fields.joined(separator: ","))}}"
    }

    static func put(
        _ client: some TestClientProtocol,
        _ token: String,
        _ body: String,
        version: Int,
        period: String = period
    ) async throws
        -> TestResponse
    {
        try await client.api(.put, "\(base)/\(period)", token: token, json: body, headers: [.ifMatch: "\"\(version)\""])
    }

    static func release(_ client: some TestClientProtocol, _ token: String, version: Int) async throws -> TestResponse {
        try await client.api(.post, "\(base)/\(period)/release", token: token, headers: [.ifMatch: "\"\(version)\""])
    }

    /// Opens `count` cases in the token's tenant, dated into the report's half-year so that they count in it.
    static func cases(_ db: TestDatabase, _ client: some TestClientProtocol, _ token: String, count: Int, name: String) async throws {
        _ = try await FiguresTests.seed(client, token, count: count, name: name)
        let day = "\(period.prefix(4))-\(period.hasSuffix("-1") ? "03" : "09")-02"
        try await db.owner.withTransaction { connection in
            try await connection.query("UPDATE cases SET opened_on = \(day)::date", logger: TestDatabase.logger)
        }
    }

    static func refreshFigures(_ db: TestDatabase, _ people: TestApp.People) async throws {
        let district = try await db.owner.withTransaction { connection in
            try await connection.query("SELECT id FROM tenants WHERE slug = 'en-kreis'", logger: TestDatabase.logger).collect().first!.decode(
                UUID.self
            )
        }
        try await db.app.withTenant(district, user: people["coordinator"].id) { connection in
            _ = try await FigureSnapshots.refresh(on: connection, logger: TestDatabase.logger)
        }
    }

    static func overview(_ report: [String: Any]) -> [[String: Any]]? {
        let tables = (report["figures"] as? [String: Any])?["tables"] as? [[String: Any]]
        return tables?.first { $0["id"] as? String == "overview" }?["rows"] as? [[String: Any]]
    }

    @Test func theReleasedFiguresStayFrozenWhenCasesAreAddedLater() async throws {
        try await TestApp.with { db, people, client in
            let ks = people["coordinator"].token
            try await Self.cases(db, client, people["wittenCM"].token, count: 6, name: "Frost")
            let started = try await Self.put(client, ks, Self.allSections(), version: 0)
            #expect(started.status == .ok, "\(started.text)")
            #expect(started.object["state"] as? String == "draft" && started.object["figures_frozen"] as? Bool == false)
            let released = try await Self.release(client, ks, version: try #require(started.object["version"] as? Int))
            #expect(released.status == .ok, "\(released.text)")
            #expect(released.object["state"] as? String == "released" && released.object["figures_frozen"] as? Bool == true)
            // The milestone plan's tasks of each building block stand beside the Bausteine (engineer A's summary).
            let ids = ((released.object["figures"] as? [String: Any])?["tables"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            #expect(["milestones-I", "milestones-II", "milestones-III"].allSatisfy(ids.contains), "\(ids)")
            let frozen = try #require(Self.overview(released.object))
            let witten = frozen.first { $0["label"] as? String == "Stadt Witten" }?["cells"] as? [String]
            #expect(witten?.prefix(2) == ["6", "6"], "\(frozen)")

            // Four more cases in the same half-year; the district's figures now say 10, the released report still 6.
            try await Self.cases(db, client, people["wittenCM"].token, count: 4, name: "Spaet")
            try await Self.refreshFigures(db, people)
            let live = try await client.api(.get, "/api/v1/figures?half_year=\(Self.period)", token: ks)
            let liveWitten = (live.object["units"] as? [[String: Any]])?.first { $0["slug"] as? String == "witten" }
            #expect(liveWitten?["opened_in_period"] as? Int == 10, "\(live.text.prefix(300))")
            let read = try await client.api(.get, "\(Self.base)/\(Self.period)", token: ks)
            #expect(read.status == .ok)
            #expect(Self.overview(read.object).map { $0 as NSArray } == frozen as NSArray)
            #expect(read.object["figures"] as? NSDictionary == released.object["figures"] as? NSDictionary)

            // Final: no further save, no second release, and the database refuses a change of a released row itself.
            let again = try await Self.put(client, ks, Self.allSections("Neu"), version: try #require(released.object["version"] as? Int))
            #expect(again.status == .conflict, "\(again.text)")
            #expect(again.text.contains("endgültig"))
            await #expect(throws: (any Error).self) {
                try await db.owner.withTransaction { connection in
                    try await connection.query("UPDATE experience_reports SET sections = '{}'", logger: TestDatabase.logger)
                }
            }
        }
    }

    @Test func aReleaseWithEmptySectionsIsRefusedNamingThem() async throws {
        try await TestApp.with { _, people, client in
            let ks = people["coordinator"].token
            let body = #"{"sections":{"starting_point":"Ausgangslage","coordination":"Koordinierung","case_management":"CM","residence":"  "}}"#
            let draft = try await Self.put(client, ks, body, version: 0)
            #expect(draft.status == .ok, "\(draft.text)")
            #expect((draft.object["sections"] as? [String: Any])?["residence"] == nil, "a blank section is absent")
            let refused = try await Self.release(client, ks, version: try #require(draft.object["version"] as? Int))
            #expect(refused.status == .unprocessableContent, "\(refused.text)")
            for heading in ["Baustein III: Aufenthalt und Einbürgerung", "Strukturelle Probleme und Lösungen", "Ausblick"] {
                #expect(refused.text.contains(heading), "\(heading): \(refused.text)")
            }
            #expect(!refused.text.contains("„Ausgangslage und Zielerreichung“"))
            // The page names them too, beside the release form.
            var browser = WebBrowser()
            _ = try await browser.signIn(people["coordinator"].email, client)
            _ = try await browser.get("/erfahrungsberichte/\(Self.period)", client)
            let page = try await browser.post("/erfahrungsberichte/\(Self.period)/freigabe", [("version", "1"), ("confirm", "ja")], client)
            #expect(page.status == .unprocessableContent)
            #expect(page.text.contains("„Ausblick“ ist leer"))
            // Without the confirmation nothing is released either, and the page says what is missing.
            let unconfirmed = try await browser.post("/erfahrungsberichte/\(Self.period)/freigabe", [("version", "1")], client)
            #expect(unconfirmed.status == .unprocessableContent)
            #expect(unconfirmed.text.contains("eingefroren"))
            let state = try await client.api(.get, "\(Self.base)/\(Self.period)", token: ks)
            #expect(state.object["state"] as? String == "draft")
        }
    }

    @Test func aConcurrentSaveConflictsAndKeepsBothTexts() async throws {
        try await TestApp.with { db, people, client in
            let operators = OperatorAccounts(database: db.owner, passwords: Passwords(cost: 4))
            _ = try await operators.create(
                tenant: "en-kreis",
                email: "ks2@en-kreis.test",
                displayName: "Zweite KS",
                roles: [.districtCoordinator],
                password: TestApp.password
            )
            var first = WebBrowser()
            var second = WebBrowser()
            _ = try await first.signIn(people["coordinator"].email, client)
            _ = try await second.signIn("ks2@en-kreis.test", client)
            _ = try await first.get("/erfahrungsberichte", client)
            let started = try await first.post("/erfahrungsberichte", [("halbjahr", Self.period)], client)
            #expect(started.status == .seeOther, "\(started.text)")
            #expect(try await first.get(try #require(started.headers[.location]), client).text.contains("Begonnen"))
            _ = try await second.get("/erfahrungsberichte/\(Self.period)", client)

            let saved = try await first.post("/erfahrungsberichte/\(Self.period)", [("version", "1"), ("outlook", "Text der ersten KS")], client)
            #expect(saved.status == .seeOther)
            let after = try await first.get(try #require(saved.headers[.location]), client)
            #expect(after.text.contains("Gespeichert um "), "\(after.text)")

            let conflict = try await second.post(
                "/erfahrungsberichte/\(Self.period)",
                [("version", "1"), ("outlook", "Text der zweiten KS")],
                client
            )
            #expect(conflict.status == .conflict)
            #expect(conflict.text.contains("Text der zweiten KS"), "the second coordinator's text stays in the form")
            #expect(conflict.text.contains("Text der ersten KS"), "the text saved meanwhile is shown beside it")
            #expect(conflict.text.contains("Ihr Text ist nicht gespeichert"))
            let stored = try await client.api(.get, "\(Self.base)/\(Self.period)", token: people["coordinator"].token)
            #expect((stored.object["sections"] as? [String: Any])?["outlook"] as? String == "Text der ersten KS")
            // Saving again from the conflict page (which carries the current version) is a deliberate overwrite.
            let resaved = try await second.post("/erfahrungsberichte/\(Self.period)", [("version", "2"), ("outlook", "Text der zweiten KS")], client)
            #expect(resaved.status == .seeOther)

            // In the API a save against an old version is a 412, and the text stays as saved.
            let stale = try await Self.put(client, people["coordinator"].token, Self.allSections("Alt"), version: 1)
            #expect(stale.status == .preconditionFailed, "\(stale.text)")
            let missing = try await client.api(.put, "\(Self.base)/\(Self.period)", token: people["coordinator"].token, json: Self.allSections())
            #expect(missing.status == .preconditionRequired)
        }
    }

    @Test func onlyTheDistrictsCoordinationAndSteeringGroupReadIt() async throws {
        try await TestApp.with { db, people, client in
            let ks = people["coordinator"].token
            let draft = try await Self.put(client, ks, Self.allSections(), version: 0)
            #expect(draft.status == .ok)
            // A town's case manager: no route of the reports.
            let cm = people["wittenCM"].token
            #expect(try await client.api(.get, Self.base, token: cm).status == .forbidden)
            #expect(try await client.api(.get, "\(Self.base)/\(Self.period)", token: cm).status == .forbidden)
            #expect(try await Self.put(client, cm, Self.allSections(), version: 1).status == .forbidden)
            var town = WebBrowser()
            _ = try await town.signIn(people["wittenCM"].email, client)
            #expect(try await town.get("/erfahrungsberichte/\(Self.period)", client).status == .forbidden)
            #expect(try await client.api(.get, Self.base, token: people["platform"].token).status == .forbidden)
            // The assistant reads the draft, does not write; the steering group sees only released reports.
            #expect(try await client.api(.get, "\(Self.base)/\(Self.period)", token: people["assistant"].token).status == .ok)
            #expect(try await Self.put(client, people["assistant"].token, Self.allSections(), version: 1).status == .forbidden)
            let steering = people["steering"].token
            #expect(try await client.api(.get, "\(Self.base)/\(Self.period)", token: steering).status == .notFound)
            #expect((try await client.api(.get, Self.base, token: steering).object["reports"] as? [Any])?.isEmpty == true)
            #expect(try await Self.release(client, ks, version: 1).status == .ok)
            #expect(try await client.api(.get, "\(Self.base)/\(Self.period)", token: steering).status == .ok)

            // Another district's coordinator: en-kreis's reports do not exist for them, and their own list is empty.
            let other = try await LadderTests.otherDistrictsCoordinator(db)
            #expect(try await client.api(.get, Self.base, token: other).status == .notFound)
            #expect(try await client.api(.get, "\(Self.base)/\(Self.period)", token: other).status == .notFound)
            #expect(try await Self.put(client, other, Self.allSections(), version: 2).status == .notFound)
            let own = try await client.api(.get, "/api/v1/districts/kreis-mettmann/experience-reports", token: other)
            #expect(own.status == .ok && (own.object["reports"] as? [Any])?.isEmpty == true, "\(own.text)")
            var otherBrowser = WebBrowser()
            _ = try await otherBrowser.signIn("ks@mettmann.test", client)
            #expect(try await otherBrowser.get("/erfahrungsberichte/\(Self.period)", client).status == .notFound)
        }
    }

    @Test func theExportHoldsCountsOnlyWithSmallCountsSuppressed() async throws {
        try await TestApp.with { db, people, client in
            let ks = people["coordinator"].token
            try await Self.cases(db, client, people["wittenCM"].token, count: 3, name: "Geheimname")
            let draft = try await Self.put(client, ks, Self.allSections(), version: 0)
            var browser = WebBrowser()
            _ = try await browser.signIn(people["coordinator"].email, client)
            // A draft is not exported.
            #expect(try await browser.get("/erfahrungsberichte/\(Self.period)/download", client).status == .conflict)
            #expect(try await Self.release(client, ks, version: try #require(draft.object["version"] as? Int)).status == .ok)

            let download = try await browser.get("/erfahrungsberichte/\(Self.period)/download", client)
            #expect(download.status == .ok)
            #expect(download.headers[.contentDisposition] == "attachment; filename=\"erfahrungsbericht-en-kreis-\(Self.period).md\"")
            let text = download.text
            #expect(text.contains("# Erfahrungsbericht"))
            #expect(text.contains("## Ausblick") && text.contains("Text zu Ausblick"))
            #expect(!text.contains("Geheimname") && !text.contains("Mira"), "no client's name")
            let witten = try #require(text.split(separator: "\n").first { $0.hasPrefix("| Stadt Witten |") })
            #expect(witten.contains("<5") && !witten.contains("| 3 |"), "\(witten)")
            #expect(!text.contains("assistant") && text.contains("coordinator (Koordinierungsstelle)"), "only the releaser is named")

            let print = try await browser.get("/erfahrungsberichte/\(Self.period)/druck", client)
            #expect(print.status == .ok)
            #expect(print.text.contains("print-document") && print.text.contains("&lt;5"))
            #expect(!print.text.contains("Geheimname"))
            // Each export is in the audit trail, for the programme controlling.
            let audited = try await db.owner.withTransaction { connection in
                try await connection.query(
                    "SELECT count(*)::integer FROM audit_log WHERE action = 'experience_report.exported' AND purpose = 'programme_controlling'",
                    logger: TestDatabase.logger
                ).collect().first!.decode(Int.self)
            }
            #expect(audited == 2)
        }
    }

    @Test func aFuturePeriodIsRefusedAndTheRunningOneIsNotReleased() async throws {
        try await TestApp.with { _, people, client in
            let ks = people["coordinator"].token
            let current = HalfYear(containing: .today)
            let next = ExperienceReports.recent(Day("\(current.year + 1)-\(current.half == 1 ? "01" : "07")-15")!)[0].description
            let future = try await Self.put(client, ks, Self.allSections(), version: 0, period: next)
            #expect(future.status == .unprocessableContent)
            #expect(future.text.contains("hat noch nicht begonnen"), "\(future.text)")
            #expect(try await Self.put(client, ks, Self.allSections(), version: 0, period: "2026-3").status == .unprocessableContent)
            var browser = WebBrowser()
            _ = try await browser.signIn(people["coordinator"].email, client)
            let list = try await browser.get("/erfahrungsberichte", client)
            #expect(!list.text.contains("value=\"\(next)\""))
            #expect(list.text.contains("value=\"\(Self.period)\" selected"), "the last completed half-year is the default")
            let refused = try await browser.post("/erfahrungsberichte", [("halbjahr", next)], client)
            #expect(refused.status == .unprocessableContent)
            // The running half-year may be written, but released only after its end.
            let running = try await Self.put(client, ks, Self.allSections(), version: 0, period: current.description)
            #expect(running.status == .ok)
            let early = try await client.api(.post, "\(Self.base)/\(current)/release", token: ks, headers: [.ifMatch: "\"1\""])
            #expect(early.status == .unprocessableContent)
            #expect(early.text.contains("läuft noch"))
        }
    }
}
