import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Kreiswerk

/// The ABH's register of applications (issue 21, Baustein III): officers record applications and move them on, the
/// backlog on a day counts what was open then, another ABH sees nothing, and a stale change is refused.
@Suite struct ApplicationRegisterTests {
    static func day(_ offset: Int) -> Day { Day(Date().addingTimeInterval(Double(offset) * 86_400)) }

    static func signedIn(_ email: String, _ client: some TestClientProtocol) async throws -> WebBrowser {
        var browser = WebBrowser()
        _ = try await browser.signIn(email, client)
        return browser
    }

    /// Records a § 25b application received `daysAgo` through the page; its id.
    static func record(_ browser: inout WebBrowser, daysAgo: Int, _ client: some TestClientProtocol) async throws -> String {
        _ = try await browser.get("/abh/neuer-antrag", client)
        let recorded = try await browser.post(
            "/abh/antraege",
            [
                ("first_name", "Samir"), ("last_name", "Haddad"), ("date_of_birth", "1988-03-04"), ("file_number", "ABH-25b-17"),
                ("kind", "section_25b"), ("received_on", day(-daysAgo).iso), ("officer_id", ""),
            ],
            client
        )
        #expect(recorded.status == .seeOther, "\(recorded.text)")
        let location = try #require(recorded.headers[.location])
        return String(location.dropFirst("/abh/antraege/".count).prefix(36))
    }

    static func backlog(_ browser: inout WebBrowser, on day: Day, _ client: some TestClientProtocol) async throws -> String {
        let page = try await browser.get("/abh/rueckstand?stichtag=\(day.iso)", client)
        #expect(page.status == .ok)
        let text = page.text
        guard let start = text.range(of: #"<span id="backlog-total">"#), let end = text[start.upperBound...].range(of: "</span>") else {
            return "?"
        }
        return String(text[start.upperBound..<end.lowerBound])
    }

    @Test func anOfficerRecordsAnApplicationAndTheBacklogOfADayChanges() async throws {
        try await TestApp.with { _, people, client in
            var officer = try await Self.signedIn(people["abh"].email, client)
            #expect(try await Self.backlog(&officer, on: Self.day(0), client) == "0")
            let id = try await Self.record(&officer, daysAgo: 120, client)
            let page = try await officer.get("/abh/antraege/\(id)?erfasst=1", client)
            #expect(page.text.contains("Antrag erfasst."))
            #expect(page.text.contains("Samir Haddad"))

            // Open from its day of receipt on: 3–6 months old today, not there the day before it came in.
            #expect(try await Self.backlog(&officer, on: Self.day(0), client) == "1")
            #expect(try await Self.backlog(&officer, on: Self.day(-121), client) == "0")
            let today = try await officer.get("/abh/rueckstand", client)
            #expect(
                today.text.contains(
                    "<th scope=\"row\">§ 25b AufenthG (nachhaltige Integration)</th><td>0</td><td>1</td><td>0</td><td>0</td><td>1</td>"
                )
            )

            // Documents missing, then granted ten days ago: out of the backlog from that day on, in it before.
            _ = try await officer.get("/abh/antraege/\(id)", client)
            var changed = try await officer.post(
                "/abh/antraege/\(id)/stand",
                [("version", "1"), ("state", "documents_missing"), ("changed_on", Self.day(-60).iso), ("note", "Sprachnachweis B1 fehlt")],
                client
            )
            #expect(changed.status == .seeOther, "\(changed.text)")
            _ = try await officer.get("/abh/antraege/\(id)", client)
            changed = try await officer.post(
                "/abh/antraege/\(id)/stand",
                [("version", "2"), ("state", "granted"), ("changed_on", Self.day(-10).iso), ("note", "")],
                client
            )
            #expect(changed.status == .seeOther, "\(changed.text)")
            #expect(try await Self.backlog(&officer, on: Self.day(0), client) == "0")
            #expect(try await Self.backlog(&officer, on: Self.day(-11), client) == "1")
            let detail = try await officer.get("/abh/antraege/\(id)", client).text
            #expect(detail.contains("Sprachnachweis B1 fehlt"))
            #expect(detail.contains("erteilt am \(Self.day(-10).german)"))
            let list = try await officer.get("/abh/antraege?offen=1", client).text
            #expect(!list.contains("Samir Haddad"), "a decided application is not open")
        }
    }

    @Test func anotherABHsOfficerFindsNothingAndOtherRolesAreRefused() async throws {
        try await TestApp.with { db, people, client in
            try await withTemporaryDirectory { folder in
                try copyContents(of: TestDatabase.tenantsDirectory, to: folder)
                try "slug: witten-abh\nname: Ausländerbehörde Witten\nkind: authority\ndistrict: en-kreis\n".write(
                    to: folder.appendingPathComponent("en-kreis/witten-abh.yaml"),
                    atomically: true,
                    encoding: .utf8
                )
                _ = try await TenantsFolder.apply(folder, database: db.owner)
            }
            _ = try await OperatorAccounts(database: db.owner, passwords: Passwords(cost: 4)).create(
                tenant: "witten-abh",
                email: "officer@witten-abh.test",
                displayName: "Sachbearbeitung Witten",
                roles: [.abhOfficer],
                password: TestApp.password
            )
            var officer = try await Self.signedIn(people["abh"].email, client)
            let id = try await Self.record(&officer, daysAgo: 30, client)

            var other = try await Self.signedIn("officer@witten-abh.test", client)
            #expect(try await other.get("/abh/antraege/\(id)", client).status == .notFound)
            _ = try await other.get("/abh/antraege", client)
            #expect(!other.lastPage.contains("Samir Haddad"))
            let changed = try await other.post(
                "/abh/antraege/\(id)/stand",
                [("version", "1"), ("state", "refused"), ("changed_on", Day.today.iso)],
                client
            )
            #expect(changed.status == .notFound)
            #expect(try await Self.backlog(&other, on: .today, client) == "0", "only counts of one's own ABH")

            var caseManager = try await Self.signedIn(people["wittenCM"].email, client)
            #expect(try await caseManager.get("/abh/antraege/\(id)", client).status == .forbidden)
            #expect(try await caseManager.get("/abh/rueckstand", client).status == .forbidden)
            // The database keeps the applicant in the ABH's tenant: not even a count for another tenant.
            let seen = try await db.app.withTenant(
                try #require(try await TenantCatalogue(database: db.owner).list().first { $0.tenant.slug == "witten" }?.id)
            ) { connection in
                try await connection.query("SELECT count(*)::integer FROM abh_applicants", logger: TestDatabase.logger).collect().first?.decode(
                    Int.self
                )
            }
            #expect(seen == 0)
        }
    }

    @Test func aStaleVersionIsAConflictAndNothingIsOverwritten() async throws {
        try await TestApp.with { _, people, client in
            var first = try await Self.signedIn(people["abh"].email, client)
            let id = try await Self.record(&first, daysAgo: 5, client)
            var second = try await Self.signedIn(people["abh"].email, client)
            _ = try await first.get("/abh/antraege/\(id)", client)
            _ = try await second.get("/abh/antraege/\(id)", client)
            let won = try await first.post(
                "/abh/antraege/\(id)/stand",
                [("version", "1"), ("state", "in_examination"), ("changed_on", Day.today.iso)],
                client
            )
            #expect(won.status == .seeOther)
            let lost = try await second.post(
                "/abh/antraege/\(id)/stand",
                [("version", "1"), ("state", "refused"), ("changed_on", Day.today.iso)],
                client
            )
            #expect(lost.status == .conflict)
            #expect(lost.text.contains("inzwischen von jemand anderem geändert"))
            let page = try await first.get("/abh/antraege/\(id)", client).text
            #expect(page.contains(#"<dd id="application-state">in Prüfung</dd>"#), "the first change stands")

            // A form without a state or with a day in the future is a 422 with German messages, not a 500.
            let empty = try await first.post("/abh/antraege/\(id)/stand", [("version", "2"), ("state", ""), ("changed_on", "")], client)
            #expect(empty.status == .unprocessableContent)
            #expect(empty.text.contains("Bitte den neuen Stand wählen."))
        }
    }
}
