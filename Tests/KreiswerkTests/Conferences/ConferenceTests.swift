import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Kreiswerk

/// Case conferences: invited tenants see summary, agenda, minutes and action items, nothing of the case; consent governs it.
@Suite struct ConferenceTests {
    static func plan(
        _ client: some TestClientProtocol,
        _ token: String,
        _ caseID: String,
        kind: String = "municipal",
        consent: Bool = true
    ) async throws -> TestResponse {
        let consentField = consent ? #","consent_given_on":"2026-03-01""# : ""
        return try await client.api(
            .post,
            "/api/v1/cases/\(caseID)/conferences",
            token: token,
            json:
                #"{"kind":"\#(kind)","title":"Wohnung und Schule","scheduled_at":"2026-12-01T10:00:00Z","summary":"Familie mit drei Kindern, Wohnung zu klein, Schulanmeldung offen.","agenda":"1. Wohnung 2. Schule","participants":["awo-en"],"external_participants":["Integrationsrat Witten"]\#(consentField)}"#
        )
    }

    @Test func invitedTenantsSeeTheConferenceAndNothingOfTheCase() async throws {
        try await TestApp.with { db, people, client in
            let cm = people["wittenCM"].token
            let clientID = try await CaseWorkflowTests.register(client, cm)
            let (caseID, _) = try await CaseWorkflowTests.openCase(client, cm, clientID)
            #expect(try await Self.plan(client, cm, caseID, consent: false).status == .unprocessableContent)
            let planned = try await Self.plan(client, cm, caseID)
            #expect(planned.status == .created, "\(planned.text)")
            let id = try #require(planned.object["id"] as? String)
            #expect((planned.object["participants"] as? [String])?.contains("Integrationsrat Witten") == true)

            let awo = try await OperatorAccounts(database: db.owner, passwords: Passwords(cost: 4)).create(
                tenant: "awo-en",
                email: "k@awo-en.test",
                displayName: "K",
                roles: [.caseManager],
                password: TestApp.password
            )
            let invited = try await OperatorAccounts(database: db.owner).createToken(email: awo.email, name: "t", expiresInDays: 1).1.value
            let seen = try await client.api(.get, "/api/v1/conferences/\(id)", token: invited)
            #expect(seen.status == .ok)
            #expect((seen.object["summary"] as? String)?.contains("drei Kindern") == true)
            #expect(seen.object["case_id"] == nil)
            #expect(try await client.api(.get, "/api/v1/cases/\(caseID)", token: invited).status == .notFound)
            // Not invited: Hattingen; and the invited may read but not write.
            #expect(try await client.api(.get, "/api/v1/conferences/\(id)", token: people["hattingenCM"].token).status == .notFound)
            #expect(try await client.api(.get, "/api/v1/conferences", token: people["hattingenCM"].token).array.isEmpty)
            #expect(
                try await client.api(
                    .put,
                    "/api/v1/conferences/\(id)/minutes",
                    token: invited,
                    json: #"{"minutes":"x"}"#,
                    headers: [.ifMatch: "\"1\""]
                ).status == .notFound
            )

            // Minutes and action items by the organiser, seen by the invited.
            let minutes = try await client.api(
                .put,
                "/api/v1/conferences/\(id)/minutes",
                token: cm,
                json: #"{"minutes":"Wohnungsamt wird angefragt."}"#,
                headers: [.ifMatch: "\"1\""]
            )
            #expect(minutes.status == .ok)
            #expect(
                try await client.api(.put, "/api/v1/conferences/\(id)/minutes", token: cm, json: #"{"minutes":"alt"}"#, headers: [.ifMatch: "\"1\""])
                    .status == .preconditionFailed
            )
            let item = try await client.api(
                .post,
                "/api/v1/conferences/\(id)/action-items",
                token: cm,
                json: #"{"text":"Wohnungsamt anrufen","owner":"AWO EN","due_on":"2026-12-15"}"#
            )
            #expect(item.status == .created)
            let again = try await client.api(.get, "/api/v1/conferences/\(id)", token: invited).object
            #expect(again["minutes"] as? String == "Wohnungsamt wird angefragt.")
            #expect((again["action_items"] as? [[String: Any]])?.first?["owner_name"] as? String == "AWO EN")

            // Withdrawing consent to case management ends every share of the client's data.
            let consents = try await client.api(.get, "/api/v1/clients/\(clientID)", token: cm).object["consents"] as? [[String: Any]] ?? []
            let main = try #require(consents.first { $0["scope"] as? String == "case_management" }?["id"] as? String)
            #expect(try await client.api(.post, "/api/v1/clients/\(clientID)/consents/\(main)/withdraw", token: cm, json: "{}").status == .noContent)
            #expect(try await client.api(.get, "/api/v1/conferences/\(id)", token: invited).status == .notFound)
            #expect(try await client.api(.get, "/api/v1/conferences/\(id)", token: cm).object["grant_active"] as? Bool == false)
        }
    }

    @Test func aDistrictConferenceIsSeenByTheDistrictsCoordinators() async throws {
        try await TestApp.with { _, people, client in
            let cm = people["wittenCM"].token
            let clientID = try await CaseWorkflowTests.register(client, cm)
            let (caseID, _) = try await CaseWorkflowTests.openCase(client, cm, clientID)
            let planned = try await Self.plan(client, cm, caseID, kind: "district")
            #expect(planned.object["moderator"] as? String == "en-kreis")
            let id = try #require(planned.object["id"] as? String)
            #expect(try await client.api(.get, "/api/v1/conferences/\(id)", token: people["coordinator"].token).status == .ok)
            #expect(try await client.api(.get, "/api/v1/conferences", token: people["coordinator"].token).array.count == 1)
            #expect(try await client.api(.get, "/api/v1/conferences/\(id)", token: people["wittenAdmin"].token).status == .forbidden)
        }
    }

    @Test func aMunicipalConferenceMayAskTheCoordinatorsToModerate() async throws {
        try await TestApp.with { _, people, client in
            let cm = people["wittenCM"].token
            let coordinator = people["coordinator"].token
            let clientID = try await CaseWorkflowTests.register(client, cm)
            let (caseID, _) = try await CaseWorkflowTests.openCase(client, cm, clientID)
            let plain = try await Self.plan(client, cm, caseID)
            #expect(plain.object["moderator"] == nil)
            #expect(try await client.api(.get, "/api/v1/notifications", token: coordinator).array.isEmpty)
            let asked = try await client.api(
                .post,
                "/api/v1/cases/\(caseID)/conferences",
                token: cm,
                json:
                    #"{"kind":"municipal","title":"Familie Haddad: Wohnung","scheduled_at":"2026-12-01T10:00:00Z","summary":"Wohnung zu klein.","participants":["awo-en"],"consent_given_on":"2026-03-01","request_moderator":true}"#
            )
            #expect(asked.status == .created, "\(asked.text)")
            #expect(asked.object["moderator"] as? String == "en-kreis")
            let id = try #require(asked.object["id"] as? String)
            // The coordinator is told at once, without the client's name, and sees the conference.
            let inbox = try await client.api(.get, "/api/v1/notifications", token: coordinator).array
            #expect(inbox.map { $0["kind"] as? String } == ["conference_moderation"])
            let title = try #require(inbox.first?["title"] as? String)
            #expect(title.hasPrefix("Stadt Witten bittet um Moderation einer Fallkonferenz am 01.12.2026"), "\(title)")
            #expect(!title.contains("Haddad"))
            #expect(inbox.first?["link"] as? String == "/konferenzen/\(id.lowercased())")
            #expect(try await client.api(.get, "/api/v1/conferences/\(id)", token: coordinator).status == .ok)
        }
    }

    @Test func colleaguesInvitedByNameAreNotifiedAndOnlyTheySeeTheConference() async throws {
        try await TestApp.with { db, people, client in
            let cm = people["wittenCM"].token
            let clientID = try await CaseWorkflowTests.register(client, cm)
            let (caseID, _) = try await CaseWorkflowTests.openCase(client, cm, clientID)
            func plan(_ invitees: String) async throws -> TestResponse {
                try await client.api(
                    .post,
                    "/api/v1/cases/\(caseID)/conferences",
                    token: cm,
                    json:
                        #"{"kind":"municipal","title":"Familie Haddad: Aufenthalt","scheduled_at":"2026-12-01T10:00:00Z","summary":"Aufenthalt läuft aus.","participants":[],"invitees":[\#(invitees)],"consent_given_on":"2026-03-01"}"#
                )
            }
            // Every address that is not a colleague who attends conferences is named, and nothing is written.
            let refused = try await plan(#""niemand@nirgends.test", "\#(people["hattingenAdmin"].email)", "\#(people["wittenAdmin"].email)""#)
            #expect(refused.status == .unprocessableContent)
            let message = try #require((refused.object["errors"] as? [String: String])?["invitees"])
            #expect(message.contains("niemand@nirgends.test ist kein aktives Konto Ihres Kreises"), "\(message)")
            #expect(message.contains("wittenAdmin (\(people["wittenAdmin"].email)) nimmt in Kreiswerk nicht an Fallkonferenzen teil"), "\(message)")
            #expect(message.contains("hattingenAdmin"), "Hattingen is a town of the district: its administrator is found, and refused for the role")
            #expect(try await client.api(.get, "/api/v1/conferences", token: cm).array.isEmpty)

            // The ABH officer, by name and in capitals: the ABH is invited, the officer notified, the team lead too.
            let planned = try await plan(#""\#(people["abh"].email.uppercased())", "\#(people["wittenLead"].email)""#)
            #expect(planned.status == .created, "\(planned.text)")
            let id = try #require(planned.object["id"] as? String)
            let participants = planned.object["participants"] as? [String] ?? []
            #expect(participants.contains { $0.hasPrefix("abh (") }, "\(participants)")
            #expect(participants.contains { $0.hasPrefix("wittenLead (") }, "\(participants)")
            for name in ["abh", "wittenLead"] {
                let inbox = try await client.api(.get, "/api/v1/notifications", token: people[name].token).array
                #expect(inbox.map { $0["kind"] as? String } == ["conference_invitation"], "\(name)")
                #expect((inbox.first?["title"] as? String)?.hasPrefix("Stadt Witten lädt Sie zu einer Fallkonferenz am 01.12.2026") == true)
                #expect((inbox.first?["title"] as? String)?.contains("Haddad") == false)
            }
            #expect(try await client.api(.get, "/api/v1/conferences/\(id)", token: people["abh"].token).status == .ok)
            #expect(try await client.api(.get, "/api/v1/conferences/\(id)", token: people["hattingenCM"].token).status == .notFound)
            #expect(try await client.api(.get, "/api/v1/notifications", token: people["hattingenCM"].token).array.isEmpty)

            // The officer's colleague at the ABH was not invited: the summary is not theirs to read.
            let colleague = try await OperatorAccounts(database: db.owner, passwords: Passwords(cost: 4)).create(
                tenant: "en-kreis-abh",
                email: "kollege@en-kreis-abh.test",
                displayName: "Kollege ABH",
                roles: [.abhOfficer],
                password: TestApp.password
            )
            let colleagueToken = try await OperatorAccounts(database: db.owner).createToken(email: colleague.email, name: "t", expiresInDays: 1).1
                .value
            #expect(try await client.api(.get, "/api/v1/conferences/\(id)", token: colleagueToken).status == .notFound)
            #expect(try await client.api(.get, "/api/v1/conferences", token: colleagueToken).array.isEmpty)
            #expect(try await client.api(.get, "/api/v1/conferences", token: people["abh"].token).array.count == 1)

            // A conference to which the ABH is invited as a whole (and the officer by name): the colleague sees it too.
            let whole = try await client.api(
                .post,
                "/api/v1/cases/\(caseID)/conferences",
                token: cm,
                json:
                    #"{"kind":"municipal","title":"Aufenthalt II","scheduled_at":"2026-12-08T10:00:00Z","summary":"Folgetermin.","participants":["en-kreis-abh"],"invitees":["\#(people["abh"].email)"],"consent_given_on":"2026-03-01"}"#
            )
            #expect(whole.status == .created, "\(whole.text)")
            let wholeID = try #require(whole.object["id"] as? String)
            #expect(try await client.api(.get, "/api/v1/conferences/\(wholeID)", token: colleagueToken).status == .ok)
            #expect(try await client.api(.get, "/api/v1/conferences", token: colleagueToken).array.compactMap { $0["id"] as? String } == [wholeID])

            // The client withdraws the consent to case management: the officer's own grant ends too.
            let consents = try await client.api(.get, "/api/v1/clients/\(clientID)", token: cm).object["consents"] as? [[String: Any]] ?? []
            let caseManagement = try #require(consents.first { $0["scope"] as? String == "case_management" }?["id"] as? String)
            #expect(
                try await client.api(.post, "/api/v1/clients/\(clientID)/consents/\(caseManagement)/withdraw", token: cm, json: "{}").status
                    == .noContent
            )
            #expect(try await client.api(.get, "/api/v1/conferences/\(id)", token: people["abh"].token).status == .notFound)
            #expect(try await client.api(.get, "/api/v1/conferences/\(wholeID)", token: colleagueToken).status == .notFound)
        }
    }

    /// A client, an open case and a municipal conference „Schule“ with AWO and `invitees` (JSON strings): their ids.
    static func plan(
        _ client: some TestClientProtocol,
        _ cm: String,
        invitees: String
    ) async throws -> (client: String, case: String, conference: String) {
        let clientID = try await CaseWorkflowTests.register(client, cm)
        let (caseID, _) = try await CaseWorkflowTests.openCase(client, cm, clientID)
        let planned = try await client.api(
            .post,
            "/api/v1/cases/\(caseID)/conferences",
            token: cm,
            json:
                #"{"kind":"municipal","title":"Schule","scheduled_at":"2027-01-12T10:00:00Z","summary":"Schulanmeldung offen.","participants":["awo-en"],"invitees":[\#(invitees)],"consent_given_on":"2026-03-01"}"#
        )
        return (clientID, caseID, try #require(planned.object["id"] as? String))
    }

    @Test func moreParticipantsAreInvitedLaterWithTheClientsConsent() async throws {
        try await TestApp.with { _, people, client in
            let cm = people["wittenCM"].token
            let (clientID, _, id) = try await Self.plan(client, cm, invitees: "")
            let path = "/api/v1/conferences/\(id)/participants"
            #expect(try await client.api(.get, "/api/v1/conferences/\(id)", token: people["abh"].token).status == .notFound)

            // Without consent, without anyone, with someone who is not a colleague: refused, nothing written.
            let bare = try await client.api(.post, path, token: cm, json: "{}")
            #expect(bare.status == .unprocessableContent)
            let errors = bare.object["errors"] as? [String: String] ?? [:]
            #expect(errors["consent"] != nil && errors["participants"] != nil, "\(errors)")
            #expect(
                try await client.api(.post, path, token: cm, json: #"{"invitees":["niemand@nirgends.test"],"consent_given_on":"2026-04-01"}"#).status
                    == .unprocessableContent
            )
            #expect(
                try await client.api(.post, path, token: cm, json: #"{"participants":["awo-en"],"consent_given_on":"2026-04-01"}"#).status
                    == .unprocessableContent,
                "AWO is already invited"
            )
            // Only the organiser invites; an invited tenant cannot, another town does not even see the conference.
            #expect(
                try await client.api(
                    .post,
                    path,
                    token: people["hattingenCM"].token,
                    json: #"{"participants":["witten"],"consent_given_on":"2026-04-01"}"#
                ).status == .notFound
            )

            // The ABH officer by name: notified, sees it; the conference lists them; a hand-over consent is recorded.
            let invited = try await client.api(
                .post,
                path,
                token: cm,
                json: #"{"invitees":["\#(people["abh"].email)"],"external_participants":["Integrationsrat"],"consent_given_on":"2026-04-01"}"#
            )
            #expect(invited.status == .ok, "\(invited.text)")
            #expect(invited.headers[.eTag] == "\"2\"", "a change of participants is a new version")
            let participants = invited.object["participants"] as? [String] ?? []
            #expect(participants.contains { $0.hasPrefix("abh (") } && participants.contains("Integrationsrat"), "\(participants)")
            #expect(try await client.api(.get, "/api/v1/conferences/\(id)", token: people["abh"].token).status == .ok)
            let inbox = try await client.api(.get, "/api/v1/notifications", token: people["abh"].token).array
            #expect(inbox.map { $0["kind"] as? String } == ["conference_invitation"])
            let consents = try await client.api(.get, "/api/v1/clients/\(clientID)", token: cm).object["consents"] as? [[String: Any]] ?? []
            #expect(consents.contains { ($0["recipient"] as? String)?.contains("weitere Teilnehmende") == true }, "\(consents)")
            // Asking again changes nothing.
            #expect(
                try await client.api(.post, path, token: cm, json: #"{"invitees":["\#(people["abh"].email)"],"consent_given_on":"2026-04-01"}"#)
                    .status == .unprocessableContent
            )
        }
    }

    @Test func theOrganiserMovesOrCallsOffAConferenceAndItsGrantsEndWithIt() async throws {
        try await TestApp.with { db, people, client in
            let cm = people["wittenCM"].token
            let (_, caseID, id) = try await Self.plan(client, cm, invitees: #""\#(people["abh"].email)""#)
            _ = try await client.api(
                .post,
                "/api/v1/conferences/\(id)/action-items",
                token: cm,
                json: #"{"text":"Schulamt anrufen","owner":"CM","due_on":"\#(Day(Date()).iso)"}"#
            )
            let partner = people["partner"].token
            let abh = people["abh"].token

            // Moving it: If-Match required and checked; the officer invited by name is told, the time changes for everyone.
            let move = #"{"scheduled_at":"2027-01-19T09:00:00Z"}"#
            #expect(try await client.api(.put, "/api/v1/conferences/\(id)/schedule", token: cm, json: move).status == .preconditionRequired)
            #expect(
                try await client.api(.put, "/api/v1/conferences/\(id)/schedule", token: cm, json: move, headers: [.ifMatch: "\"7\""]).status
                    == .preconditionFailed
            )
            #expect(
                try await client.api(.put, "/api/v1/conferences/\(id)/schedule", token: partner, json: move, headers: [.ifMatch: "\"1\""]).status
                    == .forbidden
            )
            let moved = try await client.api(.put, "/api/v1/conferences/\(id)/schedule", token: cm, json: move, headers: [.ifMatch: "\"1\""])
            #expect(moved.status == .ok, "\(moved.text)")
            #expect(moved.headers[.eTag] == "\"2\"")
            #expect(try await client.api(.get, "/api/v1/conferences/\(id)", token: abh).object["scheduled_at"] as? String == "2027-01-19T09:00:00Z")
            let told = try await client.api(.get, "/api/v1/notifications", token: abh).array.compactMap { $0["kind"] as? String }
            #expect(told.sorted() == ["conference_changed", "conference_invitation"], "\(told)")

            // Calling it off: a reason is required; afterwards the invited see nothing and no reminder comes for its items.
            let noReason = try await client.api(
                .post,
                "/api/v1/conferences/\(id)/cancellation",
                token: cm,
                json: #"{"reason":"  "}"#,
                headers: [.ifMatch: "\"2\""]
            )
            #expect(noReason.status == .unprocessableContent)
            #expect((noReason.object["errors"] as? [String: String])?["reason"] != nil)
            let cancelled = try await client.api(
                .post,
                "/api/v1/conferences/\(id)/cancellation",
                token: cm,
                json: #"{"reason":"Die Familie ist umgezogen."}"#,
                headers: [.ifMatch: "\"2\""]
            )
            #expect(cancelled.status == .ok, "\(cancelled.text)")
            #expect(cancelled.object["cancel_reason"] as? String == "Die Familie ist umgezogen.")
            #expect(cancelled.object["grant_active"] as? Bool == false)
            #expect(cancelled.object["cancelled_at"] is String)
            #expect(try await client.api(.get, "/api/v1/conferences/\(id)", token: partner).status == .notFound)
            #expect(try await client.api(.get, "/api/v1/conferences/\(id)", token: abh).status == .notFound)
            #expect(
                try await client.api(.get, "/api/v1/notifications", token: abh).array.contains { $0["kind"] as? String == "conference_cancelled" }
            )
            // Nothing more can change; the case's timeline says what happened.
            #expect(
                try await client.api(.put, "/api/v1/conferences/\(id)/schedule", token: cm, json: move, headers: [.ifMatch: "\"3\""]).status
                    == .unprocessableContent
            )
            #expect(
                try await client.api(
                    .post,
                    "/api/v1/conferences/\(id)/participants",
                    token: cm,
                    json: #"{"participants":["hattingen"],"consent_given_on":"2026-04-01"}"#
                ).status == .unprocessableContent
            )
            #expect(
                try await client.api(.put, "/api/v1/conferences/\(id)/minutes", token: cm, json: #"{"minutes":"x"}"#, headers: [.ifMatch: "\"3\""])
                    .status == .unprocessableContent
            )
            #expect(
                try await client.api(
                    .post,
                    "/api/v1/conferences/\(id)/action-items",
                    token: cm,
                    json: #"{"text":"x","owner":"y","due_on":"2027-01-01"}"#
                ).status == .unprocessableContent
            )
            let timeline = try await client.api(.get, "/api/v1/cases/\(caseID)", token: cm).object["timeline"] as? [[String: Any]] ?? []
            #expect(
                timeline.contains { ($0["text"] as? String)?.hasPrefix("Fallkonferenz „Schule“ abgesagt: Die Familie ist umgezogen.") == true },
                "\(timeline)"
            )
            try await ReminderRuleTests.sweep(db, asOf: Date())
            let reminded = try await ReminderRuleTests.notifications(db).filter { $0.kind == "action_item" }
            #expect(reminded.isEmpty, "no reminder for the item of a conference called off: \(reminded)")
        }
    }

    @Test func theConferencePagesWorkWithoutJavaScript() async throws {
        try await TestApp.with { _, people, client in
            var browser = WebBrowser()
            _ = try await browser.signIn(people["wittenCM"].email, client)
            _ = try await browser.get("/aufnahme", client)
            let created = try await browser.post("/aufnahme", CasePageTests.intake, client)
            let casePath = try #require(created.headers[.location])
            #expect(try await browser.get(casePath, client).text.contains("id=\"plan-conference\""))
            let incomplete = try await browser.post(
                "\(casePath)/konferenzen",
                [("kind", "municipal"), ("title", ""), ("scheduled_at", "2026-12-01T10:00")],
                client
            )
            #expect(incomplete.status == .unprocessableContent)
            let planned = try await browser.post(
                "\(casePath)/konferenzen",
                [
                    ("kind", "municipal"), ("title", "Übergang Schule"), ("scheduled_at", "2026-12-01T10:00"), ("participants", "awo-en"),
                    ("summary", "Schulanmeldung für zwei Kinder offen."), ("consent", "1"), ("consent_given_how", "orally"),
                ],
                client
            )
            let page = try #require(planned.headers[.location])
            #expect(page.hasPrefix("/konferenzen/"))
            #expect(try await browser.get(page, client).text.contains("Schulanmeldung für zwei Kinder offen."))
            #expect(
                try await browser.post("\(page)/aufgaben", [("text", "Schulamt anrufen"), ("owner", "CM Witten"), ("due_on", "2026-12-10")], client)
                    .status == .seeOther
            )
            #expect(try await browser.get("/konferenzen", client).text.contains("Übergang Schule"))
            _ = try await browser.get(page, client)
            let noConsent = try await browser.post("\(page)/teilnehmende", [("participants", "en-kreis-abh")], client)
            #expect(noConsent.status == .unprocessableContent)
            #expect(noConsent.text.contains("href=\"#consent\""))
            func participants() async throws -> String {
                let text = try await browser.get(page, client).text
                return String(text.split(separator: "<dt>Teilnehmende</dt><dd>").last?.split(separator: "</dd>").first ?? "")
            }
            #expect(!(try await participants()).contains("Ausländerbehörde"))
            #expect(
                try await browser.post(
                    "\(page)/teilnehmende",
                    [("participants", "en-kreis-abh"), ("consent", "1"), ("consent_given_how", "orally")],
                    client
                ).status == .seeOther
            )
            #expect((try await participants()).contains("Ausländerbehörde"), "the ABH is among the participants now")
            // Moved, then called off, through the forms (the version comes with the page).
            func version() async throws -> String {
                let text = try await browser.get(page, client).text
                return String(text.split(separator: "name=\"version\" value=\"").last?.prefix { $0 != "\"" } ?? "")
            }
            let stale = try await browser.post("\(page)/termin", [("scheduled_at", "2026-12-02T11:00"), ("version", "99")], client)
            #expect(stale.status == .conflict)
            let before = try await version()
            #expect(
                try await browser.post("\(page)/termin", [("scheduled_at", "2026-12-02T11:00"), ("version", before)], client).status == .seeOther
            )
            // Minutes typed on the page as it was before the move: refused, and what was typed is still there.
            let refused = try await browser.post("\(page)/protokoll", [("minutes", "Entwurf: Schule meldet sich."), ("version", before)], client)
            #expect(refused.status == .conflict)
            #expect(refused.text.contains("Entwurf: Schule meldet sich.") && refused.text.contains("Zurzeit gespeichert"))
            #expect(try await browser.get(page, client).text.contains("02.12.2026"))
            #expect(
                try await browser.post("\(page)/absage", [("reason", ""), ("version", try await version())], client).status == .unprocessableContent
            )
            #expect(
                try await browser.post("\(page)/absage", [("reason", "Termin entfällt."), ("version", try await version())], client).status
                    == .seeOther
            )
            let after = try await browser.get(page, client).text
            #expect(after.contains("Termin entfällt.") && !after.contains("id=\"cancel\""))
            #expect(try await browser.get("/konferenzen", client).text.contains("abgesagt"))
        }
    }
}
