import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import Testing

@testable import Kreiswerk

/// The documentation standard as a page, and the towns' change requests (issue 19, seed 004: "Aushandlungsprozesse über
/// Mindestanforderungen der Dokumentation"): a town's case worker proposes, the district's coordinators see it on their
/// work queue and accept (the standard changes in the same transaction) or decline with a reason; the proposer is told.
/// Requests are seen by the proposing tenant and the coordinators only; another district sees nothing.
@Suite struct DocumentationRequestsTests {
    static let requests = "/api/v1/districts/en-kreis/documentation-standard/requests"
    static let decisions = "/api/v1/districts/en-kreis/documentation-standard/decisions"

    static func propose(_ client: some TestClientProtocol, _ token: String, _ json: String) async throws -> TestResponse {
        try await client.api(.post, requests, token: token, json: json)
    }

    static func decide(
        _ client: some TestClientProtocol,
        _ token: String,
        _ id: String,
        _ decision: String,
        reason: String? = nil
    ) async throws
        -> TestResponse
    {
        let because = reason.map { #","reason":"\#($0)""# } ?? ""
        return try await client.api(.post, decisions, token: token, json: #"{"request":"\#(id)","decision":"\#(decision)"\#(because)}"#)
    }

    static func signedIn(_ email: String, _ client: some TestClientProtocol) async throws -> WebBrowser {
        var browser = WebBrowser()
        let response = try await browser.signIn(email, client)
        #expect(response.status == .seeOther, "\(email) signs in")
        return browser
    }

    static func audited(_ db: TestDatabase, _ id: String) async throws -> [String] {
        try await db.owner.withTransaction { connection in
            try await connection.query(
                "SELECT action FROM audit_log WHERE object_type = 'documentation_standard_request' AND lower(object_id) = lower(\(id)) ORDER BY action",
                logger: TestDatabase.logger
            ).collect().map { try $0.decode(String.self) }
        }
    }

    @Test func wittenProposesTheCoordinatorAcceptsAndAPhaseChangeThenNeedsTheField() async throws {
        try await TestApp.with { db, people, client in
            let cm = people["wittenCM"].token
            let coordinatorToken = people["coordinator"].token
            let proposed = try await Self.propose(
                client,
                cm,
                #"{"phase":"goal_agreement","add":["household"],"reason":"Ohne Haushalt keine passende Hilfe planbar."}"#
            )
            #expect(proposed.status == .created, "\(proposed.text)")
            let id = try #require(proposed.object["id"] as? String)
            #expect((proposed.object["proposing_tenant"] as? String)?.contains("Witten") == true, "\(proposed.text)")
            #expect(proposed.object["decision"] == nil, "an open request has no decision, not an empty one")

            // The coordinator sees it on the start page's work queue, with the count, linking to the page.
            var coordinator = try await Self.signedIn(people["coordinator"].email, client)
            var start = try await coordinator.get("/", client)
            #expect(start.text.contains(#"class="queue-documentation"><a href="/dokumentationsstandard">"#), "\(start.text)")
            #expect(start.text.contains("1 Vorschlag wartet auf Ihre Entscheidung"))

            // Witten's staff and the coordinators see it; Hattingen, AWO and another district do not.
            #expect((try await client.api(.get, Self.requests, token: coordinatorToken).object["requests"] as? [Any])?.count == 1)
            #expect((try await client.api(.get, Self.requests, token: people["wittenLead"].token).object["requests"] as? [Any])?.count == 1)
            let hattingen = try await client.api(.get, Self.requests, token: people["hattingenCM"].token)
            #expect(hattingen.status == .ok && (hattingen.object["requests"] as? [Any])?.isEmpty == true, "\(hattingen.text)")
            var hattingenPage = try await Self.signedIn(people["hattingenCM"].email, client)
            #expect(!(try await hattingenPage.get("/dokumentationsstandard", client).text.contains("Ohne Haushalt")))
            #expect((try await client.api(.get, Self.requests, token: people["partner"].token).object["requests"] as? [Any])?.isEmpty == true)
            let other = try await LadderTests.otherDistrictsCoordinator(db)
            #expect(try await client.api(.get, Self.requests, token: other).status == .notFound)
            #expect(try await Self.decide(client, other, id, "accepted").status == .notFound)

            // A partner and a counsellor do not propose (403); a town's case worker not for another district (404).
            #expect(
                try await Self.propose(client, people["partner"].token, #"{"phase":"intake","add":["languages"],"reason":"x"}"#).status == .forbidden
            )
            let awo = try await CounsellorTests.awoStaff(db, client)
            #expect(try await Self.propose(client, awo.counsellor, #"{"phase":"intake","add":["languages"],"reason":"x"}"#).status == .forbidden)
            #expect(
                try await client.api(
                    .post,
                    "/api/v1/districts/kreis-mettmann/documentation-standard/requests",
                    token: cm,
                    json: #"{"phase":"intake","add":["languages"],"reason":"x"}"#
                ).status == .notFound
            )
            // Nor does a case worker decide (403).
            #expect(try await Self.decide(client, cm, id, "accepted").status == .forbidden)

            // Accepted: the standard requires it now, a second decision is a 409.
            let accepted = try await Self.decide(client, coordinatorToken, id, "accepted")
            #expect(accepted.status == .ok, "\(accepted.text)")
            #expect(accepted.object["decision"] as? String == "accepted" && accepted.object["decided_by"] != nil)
            let again = try await Self.decide(client, coordinatorToken, id, "declined", reason: "doch nicht")
            #expect(again.status == .conflict, "\(again.text)")
            let standard = try await client.api(.get, "/api/v1/districts/en-kreis/documentation-standard", token: cm)
            #expect((standard.object["goal_agreement"] as? [String])?.contains("household") == true, "\(standard.text)")

            // The queue is empty of it again.
            start = try await coordinator.get("/", client)
            #expect(!start.text.contains("queue-documentation"))

            // A phase change without the household is refused, naming it.
            let documented =
                CaseWorkflowTests.amira + #","residence_status":"Aufenthaltserlaubnis § 25 Abs. 2","country_of_origin":"Syrien","german_level":"A2""#
            var (caseID, version) = try await CaseWorkflowTests.openCase(
                client,
                cm,
                try await CaseWorkflowTests.register(client, cm, json: documented)
            )
            version = try #require(
                try await CaseWorkflowTests.phase(client, cm, caseID, version, #"{"phase":"assessment"}"#).object["version"] as? Int
            )
            let refused = try await CaseWorkflowTests.phase(
                client,
                cm,
                caseID,
                version,
                #"{"phase":"goal_agreement","route":"counselling_referral"}"#
            )
            #expect(refused.status == .unprocessableContent)
            #expect((refused.object["errors"] as? [String: String])?["phase"]?.contains("Haushalt und Familie") == true, "\(refused.text)")

            // The proposer is told, in the inbox.
            let inbox = try await client.api(.get, "/api/v1/notifications", token: cm).array
            #expect(inbox.contains { $0["kind"] as? String == "documentation_request" && ($0["title"] as? String)?.contains("angenommen") == true })
            #expect(try await Self.audited(db, id) == ["documentation_standard.change_accepted", "documentation_standard.change_requested"])
        }
    }

    @Test func aDeclinedRequestLeavesTheStandardAsItWasAndBadInputNamesItsField() async throws {
        try await TestApp.with { db, people, client in
            let cm = people["wittenCM"].token
            let coordinator = people["coordinator"].token
            let before = try await client.api(.get, "/api/v1/districts/en-kreis/documentation-standard", token: cm).text

            // Bad input: each a 422 naming the field, unknown values listing the possible ones.
            var bad = try await Self.propose(client, cm, #"{"phase":"aufnahme","add":["household"],"reason":"x"}"#)
            #expect(bad.status == .unprocessableContent)
            #expect((bad.object["errors"] as? [String: String])?["phase"]?.contains("goal_agreement") == true, "\(bad.text)")
            bad = try await Self.propose(client, cm, #"{"phase":"intake","add":["schuhgroesse"],"reason":"x"}"#)
            #expect((bad.object["errors"] as? [String: String])?["add"]?.contains("household") == true, "\(bad.text)")
            bad = try await Self.propose(client, cm, #"{"phase":"intake","add":["languages"]}"#)
            #expect((bad.object["errors"] as? [String: String])?["reason"] != nil, "\(bad.text)")
            bad = try await Self.propose(client, cm, #"{"phase":"goal_agreement","add":["german_level"],"reason":"x"}"#)
            #expect((bad.object["errors"] as? [String: String])?["add"]?.contains("schon vorgeschrieben") == true, "\(bad.text)")
            bad = try await Self.propose(client, cm, #"{"phase":"goal_agreement","reason":"x"}"#)
            #expect((bad.object["errors"] as? [String: String])?["add"] != nil, "\(bad.text)")
            bad = try await Self.propose(client, cm, #"{"phase":1}"#)
            #expect(bad.status == .badRequest)

            let proposed = try await Self.propose(
                client,
                cm,
                #"{"phase":"goal_agreement","remove":["german_level"],"reason":"Wird schon beim Intake erfasst."}"#
            )
            #expect(proposed.status == .created, "\(proposed.text)")
            let id = try #require(proposed.object["id"] as? String)
            #expect(proposed.object["remove"] as? [String] == ["german_level"])

            // Declining needs a reason; an unknown decision or request is a 422 naming it.
            bad = try await Self.decide(client, coordinator, id, "declined")
            #expect(bad.status == .unprocessableContent && (bad.object["errors"] as? [String: String])?["reason"] != nil, "\(bad.text)")
            bad = try await Self.decide(client, coordinator, id, "vielleicht")
            #expect((bad.object["errors"] as? [String: String])?["decision"]?.contains("accepted") == true, "\(bad.text)")
            bad = try await Self.decide(client, coordinator, "keine-id", "accepted")
            #expect((bad.object["errors"] as? [String: String])?["request"] != nil, "\(bad.text)")
            #expect(try await Self.decide(client, coordinator, UUID().uuidString, "accepted").status == .notFound)

            let declined = try await Self.decide(client, coordinator, id, "declined", reason: "Die Deutschkenntnisse braucht die Zielplanung.")
            #expect(declined.status == .ok, "\(declined.text)")
            #expect(declined.object["decision_reason"] as? String == "Die Deutschkenntnisse braucht die Zielplanung.")
            #expect(try await client.api(.get, "/api/v1/districts/en-kreis/documentation-standard", token: cm).text == before)
            #expect(try await Self.decide(client, coordinator, id, "accepted").status == .conflict)

            let listed = try await client.api(.get, Self.requests, token: cm).object["requests"] as? [[String: Any]]
            #expect(listed?.first?["decision"] as? String == "declined")
            let inbox = try await client.api(.get, "/api/v1/notifications", token: cm).array
            #expect(inbox.contains { $0["kind"] as? String == "documentation_request" && ($0["title"] as? String)?.contains("abgelehnt") == true })
            #expect(try await Self.audited(db, id) == ["documentation_standard.change_declined", "documentation_standard.change_requested"])
            // The coordinators were told of the proposal.
            let coordinatorInbox = try await client.api(.get, "/api/v1/notifications", token: coordinator).array
            #expect(coordinatorInbox.contains { $0["kind"] as? String == "documentation_request" })
        }
    }

    /// The database holds the line too: a town reads no request from the table (it is the district's), submits only
    /// through the definer function as a case worker, and that function takes tenant and user from the session.
    @Test func theDatabaseKeepsTheRequestsTheDistricts() async throws {
        try await TestApp.with { db, people, client in
            let cm = people["wittenCM"].token
            let proposed = try await Self.propose(client, cm, #"{"phase":"intake","add":["languages"],"reason":"Dolmetschbedarf."}"#)
            #expect(proposed.status == .created, "\(proposed.text)")
            let witten = try #require(UUID(uuidString: try await CampaignTests.tenantID(db, "witten")))
            let district = try #require(UUID(uuidString: try await CampaignTests.tenantID(db, "en-kreis")))
            let seen = try await db.app.withTenant(witten, user: people["wittenCM"].id) { connection in
                (
                    table: try await connection.query("SELECT count(*)::integer FROM documentation_standard_requests", logger: TestDatabase.logger)
                        .collect().first!.decode(Int.self),
                    own: try await connection.query("SELECT count(*)::integer FROM documentation_requests()", logger: TestDatabase.logger)
                        .collect().first!.decode(Int.self)
                )
            }
            #expect(seen.table == 0 && seen.own == 1)
            // The stored row names Witten and its case manager, whoever the arguments might have claimed.
            let stored = try await db.owner.withTransaction { connection in
                try await connection.query(
                    "SELECT tenant_id, proposing_tenant_id, proposed_by FROM documentation_standard_requests",
                    logger: TestDatabase.logger
                ).collect().first!.decode((UUID, UUID, UUID).self)
            }
            #expect(stored.0 == district && stored.1 == witten && stored.2 == people["wittenCM"].id)
            // Hattingen's case manager sees none of it; a partner may not submit.
            let hattingen = try #require(UUID(uuidString: try await CampaignTests.tenantID(db, "hattingen")))
            let other = try await db.app.withTenant(hattingen, user: people["hattingenCM"].id) { connection in
                try await connection.query("SELECT count(*)::integer FROM documentation_requests()", logger: TestDatabase.logger)
                    .collect().first!.decode(Int.self)
            }
            #expect(other == 0)
            let awo = try #require(UUID(uuidString: try await CampaignTests.tenantID(db, "awo-en")))
            await #expect(throws: PSQLError.self) {
                try await db.app.withTenant(awo, user: people["partner"].id) { connection in
                    _ = try await connection.query(
                        "SELECT documentation_request_submit('intake', ARRAY['languages'], '{}', 'x')",
                        logger: TestDatabase.logger
                    ).collect()
                }
            }
        }
    }

    static func version(_ page: TestResponse) throws -> String {
        let range = try #require(page.text.range(of: #"name="version" value="([0-9]+)""#, options: .regularExpression), "a version on the page")
        return String(page.text[range].dropFirst(#"name="version" value=""#.count).dropLast())
    }

    /// The ticked fields of the coordinators' form.
    static func ticked(_ page: TestResponse) -> [String] {
        page.text.matches(of: /name="required" value="([a-z_]+:[a-z_]+)" checked/).map { String($0.output.1) }
    }

    @Test func thePageShowsTheStandardTheRequestsAndWhatChanged() async throws {
        try await TestApp.with { _, people, client in
            // No requests yet: the standard per phase, absent as "keine Anforderungen"; nothing preselected beyond it.
            var coordinator = try await Self.signedIn(people["coordinator"].email, client)
            var page = try await coordinator.get("/dokumentationsstandard", client)
            #expect(page.status == .ok)
            #expect(page.text.contains("<dt>Erstberatung (Intake)</dt><dd>keine Anforderungen</dd>"), "\(page.text)")
            #expect(
                page.text.contains(
                    "<dt>Zielvereinbarung</dt><dd>Aufenthaltsstatus, Herkunftsland, Deutschkenntnisse, Weg nach der Bedarfsklärung</dd>"
                )
            )
            #expect(page.text.contains(#"id="no-open""#) && page.text.contains(#"id="no-decided""#))
            #expect(page.text.contains(#"href="/dokumentationsstandard""#), "in the navigation")
            let current = Self.ticked(page)
            #expect(
                Set(current) == [
                    "goal_agreement:residence_status", "goal_agreement:country_of_origin", "goal_agreement:german_level",
                    "goal_agreement:route", "service_steering:goals", "monitoring:next_review_on", "closure:closure_reason",
                ]
            )
            #expect(!page.text.contains("Änderung vorschlagen"))

            // Witten proposes through the page: without a reason the form says so, nothing is preselected.
            var witten = try await Self.signedIn(people["wittenCM"].email, client)
            page = try await witten.get("/dokumentationsstandard", client)
            #expect(
                page.text.contains(#"<option value="">Bitte wählen</option>"#) && !page.text.contains(" selected") && !page.text.contains(" checked")
            )
            #expect(!page.text.contains("Standard speichern"))
            var sent = try await witten.post("/dokumentationsstandard/vorschlag", [("phase", "intake"), ("add", "languages")], client)
            #expect(sent.status == .unprocessableContent)
            #expect(sent.text.contains(#"id="reason-error""#) && sent.text.contains(#"id="add-languages" name="add" value="languages" checked"#))
            sent = try await witten.post(
                "/dokumentationsstandard/vorschlag",
                [("phase", "intake"), ("add", "languages"), ("reason", "Dolmetschbedarf früh kennen.")],
                client
            )
            #expect(sent.status == .seeOther, "\(sent.text)")
            page = try await witten.get(try #require(sent.headers[.location]), client)
            #expect(page.text.contains("Ihr Änderungsvorschlag ist eingereicht"))
            #expect(page.text.contains(#"id="own-open""#) && page.text.contains("Dolmetschbedarf früh kennen."))

            // Open: the coordinator sees it with Witten's name and the reason; declining needs a reason.
            page = try await coordinator.get("/dokumentationsstandard", client)
            #expect(page.text.contains(#"id="open-requests""#) && page.text.contains("Dolmetschbedarf früh kennen.") && page.text.contains("Witten"))
            let id = try #require(page.text.firstMatch(of: /name="request" value="([0-9a-f-]{36})"/)?.output.1)
            let unexplained = try await coordinator.post(
                "/dokumentationsstandard/entscheidung",
                [("request", String(id)), ("decision", "decline")],
                client
            )
            #expect(unexplained.status == .unprocessableContent)
            #expect(unexplained.text.contains("Nicht entschieden") && unexplained.text.contains(#"id="reason-\#(id)-error""#))
            let declined = try await coordinator.post(
                "/dokumentationsstandard/entscheidung",
                [("request", String(id)), ("decision", "decline"), ("reason", "Das klärt die Erstberatung ohnehin.")],
                client
            )
            #expect(declined.status == .seeOther, "\(declined.text)")
            page = try await coordinator.get(try #require(declined.headers[.location]), client)
            #expect(page.text.contains("Vorschlag abgelehnt"))

            // Decided: both see the decision and its reason.
            #expect(
                page.text.contains(#"id="no-open""#) && page.text.contains("<strong>abgelehnt</strong>")
                    && page.text.contains("Das klärt die Erstberatung ohnehin.")
            )
            page = try await witten.get("/dokumentationsstandard", client)
            #expect(page.text.contains("<strong>abgelehnt</strong>") && page.text.contains("Das klärt die Erstberatung ohnehin."))
            #expect(!page.text.contains(#"id="own-open""#))

            // The coordinator changes the standard on the page: it says what changed; the same old page again is a 409.
            page = try await coordinator.get("/dokumentationsstandard", client)
            let version = try Self.version(page)
            let fields =
                [("version", version)] + (current + ["intake:languages"]).filter { $0 != "monitoring:next_review_on" }.map { ("required", $0) }
            let saved = try await coordinator.post("/dokumentationsstandard", fields, client)
            #expect(saved.status == .ok, "\(saved.text)")
            #expect(
                saved.text.contains("Gespeichert. Geändert: Erstberatung (Intake): neu Sprachen – Monitoring: nicht mehr nächster Prüftermin"),
                "\(saved.text)"
            )
            #expect(saved.text.contains("<dt>Monitoring</dt><dd>keine Anforderungen</dd>"))
            let stale = try await coordinator.post("/dokumentationsstandard", [("version", version), ("required", "intake:social_area")], client)
            #expect(stale.status == .conflict)
            #expect(stale.text.contains("inzwischen geändert") && stale.text.contains("<dt>Erstberatung (Intake)</dt><dd>Sprachen</dd>"))
            let standard = try await client.api(.get, "/api/v1/districts/en-kreis/documentation-standard", token: people["wittenCM"].token)
            #expect(standard.object["intake"] as? [String] == ["languages"] && standard.object["monitoring"] as? [String] == [])

            // A town's case worker cannot save the standard, nor decide (403).
            #expect(try await witten.post("/dokumentationsstandard", [("version", version)], client).status == .forbidden)
            #expect(
                try await witten.post("/dokumentationsstandard/entscheidung", [("request", String(id)), ("decision", "accept")], client).status
                    == .forbidden
            )
        }
    }
}
