import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Kreiswerk

/// What the browser sweep of issue 17 (ops/tests/browser_sweep.py) found on pages the Swift tests can read: a label whose
/// value is absent shows no label, or says that there is none.
@Suite struct SweepFindingsTests {
    @Test func aClientWithoutATargetGroupShowsNoTargetGroupLabel() async throws {
        try await TestApp.with { _, people, client in
            let settled = #"{"first_name":"Ole","last_name":"Berg","date_of_birth":"1970-01-01","arrival_date":"2010-05-01""#
            let registered = try await CaseWorkflowTests.register(client, people["wittenCM"].token, json: settled)
            var browser = WebBrowser()
            _ = try await browser.signIn(people["wittenCM"].email, client)
            let page = try await browser.get("/klienten/\(registered.lowercased())", client).text
            #expect(!page.contains("Zielgruppe: </p>") && !page.contains("<p>Zielgruppe:"), "the client belongs to no target group")
        }
    }

    @Test func aProblemWithoutLegalSpheresSaysSo() async throws {
        try await TestApp.with { _, people, client in
            let brought =
                #"{"title":"Dolmetscher fehlen","category":"structural_gap","description":"Keine Termine.","source_kind":"carrier","source_name":"AWO"}"#
            let recorded = try await client.api(.post, "/api/v1/problems/from-outside", token: people["coordinator"].token, json: brought)
            #expect(recorded.status == .created, "\(recorded.text)")
            let id = try #require(recorded.object["id"] as? String)
            var browser = WebBrowser()
            _ = try await browser.signIn(people["coordinator"].email, client)
            let page = try await browser.get("/probleme/\(id.lowercased())", client).text
            #expect(page.contains("<dt>Rechtskreise</dt><dd>–</dd>"), "no legal sphere is named: a dash, not an empty value")
        }
    }

    @Test func aPrecheckAskedWithoutSayingWhatIsMissingShowsNoSuchLabel() async throws {
        try await TestApp.with { db, people, client in
            let (caseID, _) = try await PrecheckTests.caseWithDuldung(client, people)
            var cm = try await PrecheckTests.signedIn(people["wittenCM"].email, client)
            _ = try await PrecheckTests.ask(&cm, caseID: caseID, abh: try await PrecheckTests.abhTenant(db), client)
            let page = try await cm.get("/faelle/\(caseID)/vorpruefungen", client).text
            #expect(page.contains("<dt>Frage</dt><dd>Reicht A2 mit Kurs?</dd>"))
            #expect(!page.contains("noch fehlt</dt>"), "nothing was said to be missing: no label for it")
        }
    }
}
