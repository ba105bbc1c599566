import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import Testing

@testable import Kreiswerk

/// The KIM milestone plan as data (issue 21, seed 004 section 10): loaded from tenants/en-kreis/milestones.yaml by key
/// without touching what the coordinators set, read by everyone of the district, kept by its coordinators (versioned,
/// audited), invisible to another district; overdue computed for a given day; bad input answered in German.
@Suite struct MilestonePlanTests {
    static func plan(
        _ client: some TestClientProtocol,
        _ token: String,
        _ slug: String = "en-kreis",
        asOf: String? = nil
    ) async throws
        -> TestResponse
    {
        try await client.api(.get, "/api/v1/districts/\(slug)/milestones\(asOf.map { "?as_of=\($0)" } ?? "")", token: token)
    }

    static func task(_ plan: TestResponse, key: String) -> [String: Any]? {
        (plan.object["tasks"] as? [[String: Any]] ?? []).first { $0["key"] as? String == key }
    }

    static func patch(
        _ client: some TestClientProtocol,
        _ token: String,
        _ id: String,
        version: Int?,
        _ body: String,
        slug: String = "en-kreis"
    ) async throws -> TestResponse {
        try await client.api(
            .patch,
            "/api/v1/districts/\(slug)/milestones/\(id)",
            token: token,
            json: body,
            headers: version.map { [.ifMatch: "\"\($0)\""] } ?? [:]
        )
    }

    @Test func theShippedPlanIsSection10AndLoadingItAgainKeepsWhatTheCoordinatorsSet() async throws {
        try await TestApp.with { db, people, client in
            let coordinator = people["coordinator"].token
            let first = try await Self.plan(client, coordinator)
            #expect(first.status == .ok, "\(first.text)")
            let tasks = first.object["tasks"] as? [[String: Any]] ?? []
            #expect(tasks.count == 36)
            #expect(Set(tasks.compactMap { $0["building_block"] as? String }) == ["I", "II", "III"])
            #expect(first.object["half_years"] as? [String] == ["2021-1", "2021-2", "2022-1", "2022-2"])
            let constituent = try #require(Self.task(first, key: "lenkungsgruppe-konstituierung"))
            #expect(constituent["heading"] as? String == "Gremienarbeit: Aufbau und Begleitung einer Lenkungsgruppe sowie von Projektgruppen")
            #expect(constituent["status"] as? String == "planned" && constituent["responsible"] as? String == "KS")
            let id = try #require(constituent["id"] as? String)

            let changed = try await Self.patch(
                client,
                coordinator,
                id,
                version: 1,
                #"{"status":"done","responsible":"KS Frau Yilmaz","responsible_tenant":"witten","note":"Konstituiert am 14.10.2021."}"#
            )
            #expect(changed.status == .ok, "\(changed.text)")
            #expect(changed.headers[.eTag] == "\"2\"")
            #expect(changed.object["responsible_tenant_name"] as? String == "Stadt Witten", "\(changed.text)")

            // The file applied twice more, once with the task renamed and moved: title and half-years follow the file,
            // status, who and note stay the coordinators'.
            _ = try await TenantsFolder.apply(TestDatabase.tenantsDirectory, database: db.owner)
            try await withTemporaryDirectory { folder in
                try copyContents(of: TestDatabase.tenantsDirectory, to: folder)
                let file = folder.appendingPathComponent("en-kreis/milestones.yaml")
                let text = try String(contentsOf: file, encoding: .utf8)
                try text.replacingOccurrences(
                    of: "title: \"Organisation und Durchführung konstituierender Sitzung der Lenkungsgruppe\"\n    half_years: [2021-2]",
                    with: "title: \"Konstituierende Sitzung der Lenkungsgruppe\"\n    half_years: [2021-2, 2022-1]"
                ).write(to: file, atomically: true, encoding: .utf8)
                let (_, summary) = try await TenantsFolder.apply(folder, database: db.owner)
                #expect(summary.hasSuffix("Milestones: 0 created, 1 updated."), "\(summary)")
                let (_, again) = try await TenantsFolder.apply(folder, database: db.owner)
                #expect(!again.contains("Milestones"), "a second run changes nothing: \(again)")
            }
            let after = try #require(Self.task(try await Self.plan(client, people["steering"].token), key: "lenkungsgruppe-konstituierung"))
            #expect(after["title"] as? String == "Konstituierende Sitzung der Lenkungsgruppe")
            #expect(after["half_years"] as? [String] == ["2021-2", "2022-1"])
            #expect(after["status"] as? String == "done" && after["status_label"] as? String == "erledigt")
            #expect(after["responsible"] as? String == "KS Frau Yilmaz" && after["responsible_tenant"] as? String == "witten")
            #expect(after["note"] as? String == "Konstituiert am 14.10.2021.")

            // Audited.
            let actions = try await db.owner.withTransaction { connection in
                try await connection.query("SELECT action FROM audit_log WHERE object_type = 'milestone_task'", logger: TestDatabase.logger)
                    .collect().map { try $0.decode(String.self) }
            }
            #expect(actions == ["milestone.updated"])
        }
    }

    @Test func aTownsCaseManagerAndTheSteeringGroupReadButDoNotChange() async throws {
        try await TestApp.with { _, people, client in
            let plan = try await Self.plan(client, people["wittenCM"].token)
            #expect(plan.status == .ok, "\(plan.text)")
            let id = try #require(Self.task(plan, key: "cm-qualifizierung")?["id"] as? String)
            #expect(try await Self.plan(client, people["steering"].token).status == .ok)
            #expect(try await Self.plan(client, people["partner"].token).status == .ok)

            for name in ["wittenCM", "steering", "assistant"] {
                let refused = try await Self.patch(client, people[name].token, id, version: 1, #"{"status":"done"}"#)
                #expect(refused.status == .forbidden, "\(name): \(refused.text)")
                let added = try await client.api(
                    .post,
                    "/api/v1/districts/en-kreis/milestones",
                    token: people[name].token,
                    json: #"{"building_block":"II","title":"Noch eine Aufgabe","half_years":["2027-1"]}"#
                )
                #expect(added.status == .forbidden, "\(name): \(added.text)")
            }
            #expect(Self.task(try await Self.plan(client, people["coordinator"].token), key: "cm-qualifizierung")?["status"] as? String == "planned")

            // The page: the table for everyone, the forms for the coordinators only; a case manager's post is refused.
            var browser = WebBrowser()
            _ = try await browser.signIn(people["wittenCM"].email, client)
            let page = try await browser.get("/meilensteine", client)
            #expect(page.status == .ok)
            #expect(page.text.contains("Qualifizierung der CM") && page.text.contains("<th scope=\"col\">1. HJ 2021</th>"))
            #expect(page.text.contains("href=\"/meilensteine\"") && !page.text.contains("milestone-edit") && !page.text.contains("milestone-add"))
            let editing = try await browser.get("/meilensteine?bearbeiten=\(id)", client)
            #expect(!editing.text.contains("milestone-edit"))
            let post = try await browser.post("/meilensteine", [("id", id), ("version", "1"), ("status", "done")], client)
            #expect(post.status == .forbidden)
        }
    }

    @Test func anotherDistrictNeitherReadsNorChangesThePlan() async throws {
        try await TestApp.with { db, people, client in
            try await withTemporaryDirectory { folder in
                try copyContents(of: TestDatabase.tenantsDirectory, to: folder)
                let other = folder.appendingPathComponent("mx-kreis")
                try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true)
                try "slug: mx-kreis\nname: Matrix-Kreis\nkind: district\n".write(
                    to: other.appendingPathComponent("mx-kreis.yaml"),
                    atomically: true,
                    encoding: .utf8
                )
                try "milestones:\n  - key: eigene-aufgabe\n    building_block: I\n    title: Eigene Aufgabe\n    half_years: [2026-2]\n".write(
                    to: other.appendingPathComponent("milestones.yaml"),
                    atomically: true,
                    encoding: .utf8
                )
                _ = try await TenantsFolder.apply(folder, database: db.owner)
            }
            let operators = OperatorAccounts(database: db.owner, passwords: Passwords(cost: 4))
            _ = try await operators.create(
                tenant: "mx-kreis",
                email: "ks@mx-kreis.test",
                displayName: "KS Matrix",
                roles: [.districtCoordinator],
                password: TestApp.password
            )
            let mx = try await operators.createToken(email: "ks@mx-kreis.test", name: "t", expiresInDays: 1).1.value

            let enPlan = try await Self.plan(client, people["coordinator"].token)
            let id = try #require(Self.task(enPlan, key: "bedarfsanalyse")?["id"] as? String)
            #expect(!(enPlan.object["tasks"] as? [[String: Any]] ?? []).contains { $0["key"] as? String == "eigene-aufgabe" })

            #expect(try await Self.plan(client, mx).status == .notFound)
            #expect(try await Self.plan(client, people["wittenCM"].token, "mx-kreis").status == .notFound)
            #expect(try await Self.plan(client, people["platform"].token).status == .notFound)
            let own = try await Self.plan(client, mx, "mx-kreis")
            #expect((own.object["tasks"] as? [[String: Any]] ?? []).compactMap { $0["key"] as? String } == ["eigene-aufgabe"], "\(own.text)")

            #expect(try await Self.patch(client, mx, id, version: 1, #"{"status":"done"}"#).status == .notFound)
            #expect(try await Self.patch(client, mx, id, version: 1, #"{"status":"done"}"#, slug: "mx-kreis").status == .notFound)
            #expect(Self.task(try await Self.plan(client, people["coordinator"].token), key: "bedarfsanalyse")?["status"] as? String == "planned")
        }
    }

    @Test func twoCoordinatorsEditingTheSameTaskTheSecondIsRefusedWithTheCurrentState() async throws {
        try await TestApp.with { db, people, client in
            let coordinator = people["coordinator"].token
            let id = try #require(Self.task(try await Self.plan(client, coordinator), key: "veranstaltungen")?["id"] as? String)
            let first = try await Self.patch(client, coordinator, id, version: 1, #"{"status":"in_progress","note":"Fachtag im Mai"}"#)
            #expect(first.status == .ok, "\(first.text)")
            let second = try await Self.patch(client, coordinator, id, version: 1, #"{"status":"postponed"}"#)
            #expect(second.status == .preconditionFailed, "\(second.text)")
            #expect(second.text.contains("Stand „läuft“") && second.text.contains("Fachtag im Mai"), "\(second.text)")
            #expect(try await Self.patch(client, coordinator, id, version: nil, #"{"status":"postponed"}"#).status == .preconditionRequired)
            #expect(Self.task(try await Self.plan(client, coordinator), key: "veranstaltungen")?["status"] as? String == "in_progress")

            // In the browser: a second coordinator's form, opened before the first saved, gets the conflict page.
            let operators = OperatorAccounts(database: db.owner, passwords: Passwords(cost: 4))
            _ = try await operators.create(
                tenant: "en-kreis",
                email: "ks2@en-kreis.test",
                displayName: "Zweite KS",
                roles: [.districtCoordinator],
                password: TestApp.password
            )
            var one = WebBrowser()
            var two = WebBrowser()
            _ = try await one.signIn(people["coordinator"].email, client)
            _ = try await two.signIn("ks2@en-kreis.test", client)
            let formOne = try await one.get("/meilensteine?bearbeiten=\(id)", client)
            #expect(formOne.text.contains("name=\"version\" value=\"2\""), "the form carries the version read")
            _ = try await two.get("/meilensteine?bearbeiten=\(id)", client)
            let saved = try await one.post(
                "/meilensteine",
                [("id", id), ("version", "2"), ("status", "done"), ("responsible", "KS"), ("responsible_tenant", ""), ("note", "")],
                client
            )
            #expect(saved.status == .seeOther || saved.status == .found, "\(saved.status)")
            let location = saved.headers[.location] ?? ""
            #expect(location.contains("gespeichert=\(id)") && location.contains("geaendert=status,note"), "\(location)")
            let notice = try await one.get(String(location.split(separator: "#")[0]), client)
            #expect(notice.text.contains("Stand jetzt „erledigt“") && notice.text.contains("Notiz gelöscht"), "\(notice.text)")

            let conflict = try await two.post(
                "/meilensteine",
                [("id", id), ("version", "2"), ("status", "dropped"), ("responsible", ""), ("responsible_tenant", ""), ("note", "")],
                client
            )
            #expect(conflict.status == .conflict)
            #expect(conflict.text.contains("seit Sie sie geöffnet haben") && conflict.text.contains("Stand „erledigt“"))
            #expect(conflict.text.contains("name=\"version\" value=\"3\""), "the form now shows the current state")
            #expect(Self.task(try await Self.plan(client, coordinator), key: "veranstaltungen")?["status"] as? String == "done")
        }
    }

    @Test func overdueIsComputedForTheGivenDay() async throws {
        let day = { (text: String) in Day(text)! }
        #expect(!MilestoneTask.isOverdue(halfYears: ["2021-1"], status: .planned, on: day("2021-06-30")))
        #expect(MilestoneTask.isOverdue(halfYears: ["2021-1"], status: .planned, on: day("2021-07-01")))
        #expect(MilestoneTask.isOverdue(halfYears: ["2021-1", "2021-2"], status: .inProgress, on: day("2022-01-01")))
        #expect(!MilestoneTask.isOverdue(halfYears: ["2021-2", "2021-1"], status: .postponed, on: day("2021-12-31")))
        #expect(MilestoneTask.isOverdue(halfYears: ["2021-1"], status: .postponed, on: day("2026-12-07")))
        #expect(!MilestoneTask.isOverdue(halfYears: ["2021-1"], status: .done, on: day("2026-12-07")))
        #expect(!MilestoneTask.isOverdue(halfYears: ["2021-1"], status: .dropped, on: day("2026-12-07")))

        try await TestApp.with { db, people, client in
            let token = people["coordinator"].token
            let counts = { (plan: TestResponse) in (plan.object["open"] as? Int, plan.object["overdue"] as? Int) }
            #expect(counts(try await Self.plan(client, token, asOf: "2021-06-30")) == (36, 0))
            #expect(counts(try await Self.plan(client, token, asOf: "2021-07-01")) == (36, 2))
            let march = try await Self.plan(client, token, asOf: "2022-03-01")
            #expect(counts(march) == (36, 8), "\(counts(march))")
            #expect(Self.task(march, key: "bedarfsanalyse")?["overdue"] as? Bool == true)
            #expect(Self.task(march, key: "veranstaltungen")?["overdue"] as? Bool == false)
            let id = try #require(Self.task(march, key: "bedarfsanalyse")?["id"] as? String)
            #expect(try await Self.patch(client, token, id, version: 1, #"{"status":"done"}"#).status == .ok)
            #expect(counts(try await Self.plan(client, token, asOf: "2022-03-01")) == (35, 7))
            // The counts by building block and status that the experience report shows.
            let service = MilestonePlan(database: db.app, policy: Policy())
            let identity = try #require(
                try await Credentials(logger: TestDatabase.logger).identity(bearer: people["steering"].token, on: db.app.client)
            )
            let summary = try await service.summary(by: identity, clientAddress: nil, asOf: Day("2022-03-01")!)
            #expect(summary.total == 36 && summary.open == 35 && summary.overdue == 7)
            #expect(summary.byBuildingBlock["I"]?["done"] == 1 && summary.byBuildingBlock["III"]?["planned"] == 7, "\(summary)")
            let bad = try await Self.plan(client, token, asOf: "gestern")
            #expect(bad.status == .unprocessableContent && (bad.object["errors"] as? [String: String])?["as_of"] != nil)
        }
    }

    @Test func badInputGetsA4xxNamingTheFieldInGerman() async throws {
        try await TestApp.with { _, people, client in
            let coordinator = people["coordinator"].token
            let bad = try await client.api(
                .post,
                "/api/v1/districts/en-kreis/milestones",
                token: coordinator,
                json: #"{"building_block":"IV","title":"  ","half_years":["2021-3"],"status":"fertig"}"#
            )
            #expect(bad.status == .unprocessableContent, "\(bad.text)")
            let errors = bad.object["errors"] as? [String: String] ?? [:]
            #expect(Set(errors.keys) == ["building_block", "title", "half_years", "status"], "\(errors)")
            #expect(errors["half_years"]?.contains("„2021-3“ ist kein Halbjahr") == true)
            #expect(errors["status"]?.contains("done (erledigt)") == true)
            #expect(errors["title"]?.contains("Bitte die Aufgabe benennen") == true)
            #expect(try await client.api(.post, "/api/v1/districts/en-kreis/milestones", token: coordinator, json: "[").status == .badRequest)

            let id = try #require(Self.task(try await Self.plan(client, coordinator), key: "antragsstau")?["id"] as? String)
            let status = try await Self.patch(client, coordinator, id, version: 1, #"{"status":"fertig"}"#)
            #expect(status.status == .unprocessableContent && (status.object["errors"] as? [String: String])?["status"] != nil, "\(status.text)")
            let tenant = try await Self.patch(client, coordinator, id, version: 1, #"{"responsible_tenant":"mx-stadt"}"#)
            #expect(tenant.status == .unprocessableContent && tenant.text.contains("kein Mandant Ihres Kreises"), "\(tenant.text)")
            #expect(try await Self.patch(client, coordinator, "keine-id", version: 1, #"{"status":"done"}"#).status == .notFound)
            #expect(try await Self.patch(client, coordinator, UUID().uuidString, version: 1, #"{"status":"done"}"#).status == .notFound)

            // A good one is added at the end of its block; null clears the note again.
            let added = try await client.api(
                .post,
                "/api/v1/districts/en-kreis/milestones",
                token: coordinator,
                json: #"{"building_block":"II","title":"Fortschreibung des Konzepts","half_years":["2027-2","2027-1"],"note":"Entwurf"}"#
            )
            #expect(added.status == .created, "\(added.text)")
            #expect(added.object["half_years"] as? [String] == ["2027-1", "2027-2"] && added.object["status"] as? String == "planned")
            #expect(added.object["key"] == nil)
            let newID = try #require(added.object["id"] as? String)
            let cleared = try await Self.patch(client, coordinator, newID, version: 1, #"{"note":null}"#)
            #expect(cleared.status == .ok && cleared.object["note"] == nil && cleared.object["status"] as? String == "planned", "\(cleared.text)")

            // The browser's form: every problem at once, in German, nothing added.
            var browser = WebBrowser()
            _ = try await browser.signIn(people["coordinator"].email, client)
            _ = try await browser.get("/meilensteine", client)
            let form = try await browser.post(
                "/meilensteine/neu",
                [("building_block", ""), ("title", ""), ("heading", ""), ("responsible", ""), ("responsible_tenant", ""), ("note", "")],
                client
            )
            #expect(form.status == .unprocessableContent)
            #expect(form.text.contains("Bitte den Baustein angeben") && form.text.contains("mindestens ein Halbjahr"), "\(form.text)")
            let long = try await browser.post(
                "/meilensteine/neu",
                [("building_block", "I"), ("title", "Lang"), ("half_years", "2027-1"), ("responsible", String(repeating: "x", count: 201))],
                client
            )
            #expect(long.status == .unprocessableContent)
            #expect(long.text.contains("id=\"new_responsible-error\"") && long.text.contains("höchstens 200 Zeichen"), "\(long.text)")
            let page = try await browser.post(
                "/meilensteine/neu",
                [("building_block", "III"), ("title", "Sprechstunde der ABH in Witten"), ("half_years", "2027-1")],
                client
            )
            #expect(page.status == .seeOther || page.status == .found, "\(page.status) \(page.text)")
        }
    }
}
