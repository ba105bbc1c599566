import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Kreiswerk

/// District case conferences led by the Koordinierungsstelle (issue 19): the town asks from the case with the client's
/// hand-over consent, the coordinators plan, invite, write minutes and action items, move or call it off; the town keeps
/// the case, the coordinators see the summary only. A moderation taken on is granted by name.
@Suite struct LedConferenceTests {
    /// Witten's case manager plans a conference (`body`) on a new case; answers the conference's and the case's ids.
    static func conference(_ client: some TestClientProtocol, _ people: TestApp.People, _ body: String) async throws -> (String, String) {
        let cm = people["wittenCM"].token
        let clientID = try await CaseWorkflowTests.register(client, cm, json: CaseWorkflowTests.amira + #","allow_duplicate":true"#)
        let (caseID, _) = try await CaseWorkflowTests.openCase(client, cm, clientID)
        let planned = try await client.api(.post, "/api/v1/cases/\(caseID)/conferences", token: cm, json: body)
        #expect(planned.status == .created, "\(planned.text)")
        return (try #require(planned.object["id"] as? String), caseID)
    }

    /// Witten's case manager asks the district for a conference on a new case.
    static func ask(_ client: some TestClientProtocol, _ people: TestApp.People, initiative: String = "town") async throws -> (String, String) {
        try await conference(
            client,
            people,
            #"{"kind":"district","title":"Familie Haddad: Schule und Aufenthalt","scheduled_at":"2026-12-10T09:00:00Z","summary":"Drei Kinder ohne Schulplatz, Aufenthalt läuft aus.","participants":[],"consent_given_on":"2026-03-01","initiative":"\#(initiative)"}"#
        )
    }

    static func account(_ db: TestDatabase, _ tenant: String, _ email: String, _ name: String, _ roles: Set<Role>) async throws -> String {
        let account = try await OperatorAccounts(database: db.owner, passwords: Passwords(cost: 4)).create(
            tenant: tenant,
            email: email,
            displayName: name,
            roles: roles,
            password: TestApp.password
        )
        return try await OperatorAccounts(database: db.owner).createToken(email: account.email, name: "t", expiresInDays: 1).1.value
    }

    @Test func theTownAsksAndTheCoordinatorsPlanInviteAndWriteTheMinutes() async throws {
        try await TestApp.with { db, people, client in
            let (cm, coordinator) = (people["wittenCM"].token, people["coordinator"].token)
            let (id, caseID) = try await Self.ask(client, people)

            // The request waits for the coordinators: they are told (town and wish, never the client) and read the summary only.
            let asked = try await client.api(.get, "/api/v1/conferences/\(id)", token: cm).object
            #expect(asked["lead"] as? String == "en-kreis")
            #expect(asked["planned_at"] == nil)
            #expect(asked["part"] as? String == "organiser")
            let inbox = try await client.api(.get, "/api/v1/notifications", token: coordinator).array
            let told = try #require(inbox.first { $0["kind"] as? String == "conference_moderation" }?["title"] as? String)
            #expect(told.hasPrefix("Stadt Witten bittet um eine Fallkonferenz auf Kreisebene"), "\(told)")
            #expect(!told.contains("Haddad"))
            let seen = try await client.api(.get, "/api/v1/conferences/\(id)", token: coordinator)
            #expect(seen.status == .ok)
            #expect(seen.object["part"] as? String == "lead")
            #expect(seen.object["case_id"] == nil)
            #expect(try await client.api(.get, "/api/v1/cases/\(caseID)", token: coordinator).status != .ok)

            // The coordinator plans it: AWO as a whole, the ABH officer by name, the integration council without an account.
            let awo = try await Self.account(db, "awo-en", "k@awo-en.test", "K AWO", [.caseManager])
            let plan =
                #"{"scheduled_at":"2026-12-14T09:00:00Z","agenda":"1. Schule 2. Aufenthalt","participants":["awo-en"],"invitees":["\#(people["abh"].email)"],"external_participants":["Integrationsrat Witten"]}"#
            #expect(try await client.api(.put, "/api/v1/conferences/\(id)/plan", token: coordinator, json: plan).status == .preconditionRequired)
            // Nobody but the coordinators plans it.
            #expect(
                try await client.api(.put, "/api/v1/conferences/\(id)/plan", token: cm, json: plan, headers: [.ifMatch: "\"1\""]).status
                    == .forbidden
            )
            let planned = try await client.api(.put, "/api/v1/conferences/\(id)/plan", token: coordinator, json: plan, headers: [.ifMatch: "\"1\""])
            #expect(planned.status == .ok, "\(planned.text)")
            #expect(planned.object["planned_at"] != nil)
            #expect(planned.object["planned_by_name"] as? String == "coordinator")
            let participants = planned.object["participants"] as? [String] ?? []
            #expect(participants.contains("Integrationsrat Witten") && participants.contains { $0.hasPrefix("abh (") }, "\(participants)")
            #expect(
                try await client.api(.put, "/api/v1/conferences/\(id)/plan", token: coordinator, json: plan, headers: [.ifMatch: "\"2\""]).status
                    == .unprocessableContent,
                "planned once"
            )
            let requesterInbox = try await client.api(.get, "/api/v1/notifications", token: cm).array
            #expect(requesterInbox.contains { ($0["title"] as? String)?.contains("Fallkonferenz auf Kreisebene für den 14.12.2026") == true })

            // Minutes and an action item by the coordinator; AWO and the named officer read them, the requester too.
            let minutes = try await client.api(
                .put,
                "/api/v1/conferences/\(id)/minutes",
                token: coordinator,
                json: #"{"minutes":"Schulamt sagt Plätze zu."}"#,
                headers: [.ifMatch: "\"2\""]
            )
            #expect(minutes.status == .ok, "\(minutes.text)")
            let item = try await client.api(
                .post,
                "/api/v1/conferences/\(id)/action-items",
                token: coordinator,
                json: #"{"text":"Anmeldung an der Grundschule","owner":"AWO EN","due_on":"2026-12-20"}"#
            )
            #expect(item.status == .created, "\(item.text)")
            for reader in [awo, people["abh"].token, cm] {
                let read = try await client.api(.get, "/api/v1/conferences/\(id)", token: reader).object
                #expect(read["minutes"] as? String == "Schulamt sagt Plätze zu.")
                #expect((read["action_items"] as? [[String: Any]])?.first?["owner_name"] as? String == "AWO EN")
            }

            // The town's other staff do not see it; the team lead does. Other towns, the district's assistant (not
            // invited) and another district's coordinator get 404 on all of it.
            let colleague = try await Self.account(db, "witten", "kollegin@witten.test", "Kollegin", [.caseManager])
            let other = try await LadderTests.otherDistrictsCoordinator(db)
            for outsider in [colleague, people["hattingenCM"].token, people["assistant"].token, other] {
                #expect(try await client.api(.get, "/api/v1/conferences/\(id)", token: outsider).status == .notFound)
                #expect(try await client.api(.get, "/api/v1/conferences", token: outsider).array.isEmpty)
                // 404 to anyone who may change conferences at all (another district's coordinator), 403 to the assistant.
                let refused: HTTPResponse.Status = outsider == people["assistant"].token ? .forbidden : .notFound
                #expect(
                    try await client.api(
                        .put,
                        "/api/v1/conferences/\(id)/minutes",
                        token: outsider,
                        json: #"{"minutes":"x"}"#,
                        headers: [.ifMatch: "\"3\""]
                    )
                    .status == refused
                )
                #expect(
                    try await client.api(
                        .post,
                        "/api/v1/conferences/\(id)/action-items",
                        token: outsider,
                        json: #"{"text":"x","owner":"y","due_on":"2026-12-20"}"#
                    ).status == refused
                )
            }
            #expect(
                try await client.api(.put, "/api/v1/conferences/\(id)/plan", token: other, json: plan, headers: [.ifMatch: "\"3\""]).status
                    == .notFound
            )
            #expect(try await client.api(.get, "/api/v1/conferences/\(id)", token: people["wittenLead"].token).status == .ok)
            #expect(try await client.api(.get, "/api/v1/conferences/\(id)", token: awo).object["case_id"] == nil)

            // Moved and called off by the coordinator: the requester is told, the invited lose it, the coordinators keep it.
            let moved = try await client.api(
                .put,
                "/api/v1/conferences/\(id)/schedule",
                token: coordinator,
                json: #"{"scheduled_at":"2026-12-15T09:00:00Z"}"#,
                headers: [.ifMatch: "\"3\""]
            )
            #expect(moved.status == .ok, "\(moved.text)")
            let cancelled = try await client.api(
                .post,
                "/api/v1/conferences/\(id)/cancellation",
                token: coordinator,
                json: #"{"reason":"Schulplätze sind gefunden."}"#,
                headers: [.ifMatch: "\"4\""]
            )
            #expect(cancelled.status == .ok, "\(cancelled.text)")
            #expect(try await client.api(.get, "/api/v1/conferences/\(id)", token: awo).status == .notFound)
            #expect(
                try await client.api(.get, "/api/v1/conferences/\(id)", token: coordinator).object["cancel_reason"] as? String
                    == "Schulplätze sind gefunden."
            )
            let told2 = try await client.api(.get, "/api/v1/notifications", token: cm).array.compactMap { $0["title"] as? String }
            #expect(told2.contains { $0.contains("auf den 15.12.2026") }, "\(told2)")
            #expect(told2.contains { $0.contains("abgesagt") }, "\(told2)")
        }
    }

    @Test func withdrawingConsentEndsTheInvitationsEvenWhenAColleagueWithdrawsIt() async throws {
        try await TestApp.with { db, people, client in
            let (id, caseID) = try await Self.ask(client, people)
            let plan = #"{"scheduled_at":"2026-12-14T09:00:00Z","participants":["awo-en"]}"#
            let planned = try await client.api(
                .put,
                "/api/v1/conferences/\(id)/plan",
                token: people["coordinator"].token,
                json: plan,
                headers: [.ifMatch: "\"1\""]
            )
            #expect(planned.status == .ok, "\(planned.text)")
            let awo = try await Self.account(db, "awo-en", "k@awo-en.test", "K AWO", [.caseManager])
            #expect(try await client.api(.get, "/api/v1/conferences/\(id)", token: awo).status == .ok)
            // A colleague of the town, who does not see the conference, withdraws the client's consent to case management.
            let colleague = try await Self.account(db, "witten", "kollegin@witten.test", "Kollegin", [.caseManager])
            let record = try await client.api(.get, "/api/v1/cases/\(caseID)", token: colleague).object
            let clientID = try #require((record["case"] as? [String: Any])?["client_id"] as? String, "\(record.keys)")
            let consents = try await client.api(.get, "/api/v1/clients/\(clientID)", token: colleague).object["consents"] as? [[String: Any]] ?? []
            let main = try #require(consents.first { $0["scope"] as? String == "case_management" }?["id"] as? String)
            let withdrawn = try await client.api(.post, "/api/v1/clients/\(clientID)/consents/\(main)/withdraw", token: colleague, json: "{}")
            #expect(withdrawn.status == .noContent, "\(withdrawn.text)")
            #expect(try await client.api(.get, "/api/v1/conferences/\(id)", token: awo).status == .notFound)
            #expect(try await client.api(.get, "/api/v1/conferences/\(id)", token: people["wittenCM"].token).object["grant_active"] as? Bool == false)
        }
    }

    @Test func theCoordinatorsCallOneForACaseTheTownShares() async throws {
        try await TestApp.with { _, people, client in
            let (id, _) = try await Self.ask(client, people, initiative: "coordination")
            let read = try await client.api(.get, "/api/v1/conferences/\(id)", token: people["coordinator"].token).object
            #expect(read["initiative"] as? String == "coordination")
            let refused = try await client.api(
                .post,
                "/api/v1/cases/\(UUID())/conferences",
                token: people["wittenCM"].token,
                json:
                    #"{"kind":"district","title":"x","scheduled_at":"2026-12-10T09:00:00Z","summary":"y","participants":[],"consent_given_on":"2026-03-01","initiative":"irgendwer"}"#
            )
            #expect(refused.status == .unprocessableContent)
            #expect((refused.object["errors"] as? [String: String])?["initiative"] != nil)
        }
    }

    @Test func theCoordinatorWhoTakesOnAModerationIsGrantedByNameAndWritesTheMinutes() async throws {
        try await TestApp.with { db, people, client in
            let cm = people["wittenCM"].token
            let coordinator = people["coordinator"].token
            let (id, _) = try await Self.conference(
                client,
                people,
                #"{"kind":"municipal","title":"Wohnung","scheduled_at":"2026-12-01T10:00:00Z","summary":"Wohnung zu klein.","participants":["awo-en"],"consent_given_on":"2026-03-01","request_moderator":true}"#
            )
            let second = try await Self.account(db, "en-kreis", "ks2@en-kreis.test", "Zweite Koordinatorin", [.districtCoordinator])
            #expect(try await client.api(.get, "/api/v1/conferences/\(id)", token: second).status == .ok, "asked: every coordinator reads it")
            // Before taking it on, a coordinator writes nothing.
            #expect(
                try await client.api(
                    .put,
                    "/api/v1/conferences/\(id)/minutes",
                    token: coordinator,
                    json: #"{"minutes":"x"}"#,
                    headers: [.ifMatch: "\"1\""]
                )
                .status == .notFound
            )
            let other = try await LadderTests.otherDistrictsCoordinator(db)
            #expect(try await client.api(.post, "/api/v1/conferences/\(id)/moderation", token: other).status == .notFound)

            let taken = try await client.api(.post, "/api/v1/conferences/\(id)/moderation", token: coordinator)
            #expect(taken.status == .ok, "\(taken.text)")
            #expect(taken.object["moderator_name"] as? String == "coordinator")
            #expect(taken.object["part"] as? String == "moderator")
            // Granted by name: the other coordinator no longer reads it, nor can take it on.
            #expect(try await client.api(.get, "/api/v1/conferences/\(id)", token: second).status == .notFound)
            #expect(try await client.api(.post, "/api/v1/conferences/\(id)/moderation", token: second).status == .notFound)
            let version = try #require(taken.object["version"] as? Int)
            let minutes = try await client.api(
                .put,
                "/api/v1/conferences/\(id)/minutes",
                token: coordinator,
                json: #"{"minutes":"Wohnungsamt prüft."}"#,
                headers: [.ifMatch: "\"\(version)\""]
            )
            #expect(minutes.status == .ok, "\(minutes.text)")
            // The minutes only: the town runs the rest.
            #expect(
                try await client.api(
                    .post,
                    "/api/v1/conferences/\(id)/action-items",
                    token: coordinator,
                    json: #"{"text":"x","owner":"y","due_on":"2026-12-20"}"#
                ).status == .forbidden
            )
            #expect(try await client.api(.get, "/api/v1/conferences/\(id)", token: cm).object["minutes"] as? String == "Wohnungsamt prüft.")
            let inbox = try await client.api(.get, "/api/v1/notifications", token: cm).array.compactMap { $0["title"] as? String }
            #expect(inbox.contains { $0.hasPrefix("coordinator (Ennepe-Ruhr-Kreis) moderiert Ihre Fallkonferenz") }, "\(inbox)")
        }
    }
}
