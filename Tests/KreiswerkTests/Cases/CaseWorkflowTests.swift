import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Kreiswerk

/// Case management through the API: intake to closure, consent, documentation standard, conflicts, isolation.
@Suite struct CaseWorkflowTests {
    static let amira =
        #"{"first_name":"Amira","last_name":"Haddad","date_of_birth":"1994-03-12","gender":"female","arrival_date":"2025-09-01","languages":["ar","en"],"single_parent":true"#

    /// Registers a client (with consent unless told otherwise) and returns its id.
    static func register(_ client: some TestClientProtocol, _ token: String, json: String = amira, consent: Bool = true) async throws -> String {
        let body = json + (consent ? #","consent_given_on":"2026-01-05"}"# : "}")
        let response = try await client.api(.post, "/api/v1/clients", token: token, json: body)
        #expect(response.status == .created, "register: \(response.text)")
        return try #require(response.object["id"] as? String)
    }

    static func openCase(_ client: some TestClientProtocol, _ token: String, _ clientID: String) async throws -> (id: String, version: Int) {
        let response = try await client.api(
            .post,
            "/api/v1/cases",
            token: token,
            json: #"{"client_id":"\#(clientID)","channel":"level1","reason":"Wohnungssuche"}"#
        )
        #expect(response.status == .created, "open: \(response.text)")
        return (try #require(response.object["id"] as? String), try #require(response.object["version"] as? Int))
    }

    /// Changes the phase; returns the response.
    static func phase(_ client: some TestClientProtocol, _ token: String, _ id: String, _ version: Int, _ body: String) async throws -> TestResponse {
        try await client.api(.post, "/api/v1/cases/\(id)/phase", token: token, json: body, headers: [.ifMatch: "\"\(version)\""])
    }

    @Test func aReferralRouteGoesFromTheAssessmentToMonitoringDirectly() async throws {
        try await TestApp.with { _, people, client in
            let cm = people["wittenCM"].token
            let documented = Self.amira + #","residence_status":"Aufenthaltserlaubnis § 25 Abs. 2","country_of_origin":"Syrien","german_level":"A2""#
            var (id, version) = try await Self.openCase(client, cm, try await Self.register(client, cm, json: documented))
            version = try #require(try await Self.phase(client, cm, id, version, #"{"phase":"assessment"}"#).object["version"] as? Int)
            let direct = #"{"phase":"monitoring","next_review_on":"2026-06-01""#
            let welcome = try await Self.phase(client, cm, id, version, direct + #","route":"welcome_package"}"#)
            #expect(welcome.status == .unprocessableContent, "only a referral skips the goal agreement")
            let referred = try await Self.phase(client, cm, id, version, direct + #","route":"counselling_referral"}"#)
            #expect(referred.status == .ok, "\(referred.text)")
            #expect(referred.object["phase"] as? String == "monitoring")
        }
    }

    @Test func fromIntakeToClosureFollowingTheRules() async throws {
        try await TestApp.with { db, people, client in
            let cm = people["wittenCM"].token
            let clientID = try await Self.register(client, cm)
            var (id, version) = try await Self.openCase(client, cm, clientID)
            let opened = try await client.api(.get, "/api/v1/cases/\(id)", token: cm).object
            let number = try #require((opened["case"] as? [String: Any])?["case_number"] as? String)
            #expect(number.hasPrefix("WIT-"))

            // Skipping a phase is not allowed.
            let skip = try await Self.phase(client, cm, id, version, #"{"phase":"monitoring"}"#)
            #expect(skip.status == .unprocessableContent)
            #expect((skip.object["errors"] as? [String: String])?["phase"]?.contains("Bedarfsklärung") == true)

            var step = try await Self.phase(client, cm, id, version, #"{"phase":"assessment"}"#)
            #expect(step.status == .ok)
            version = try #require(step.object["version"] as? Int)

            // After the assessment: a route, and the district's minimum documentation.
            step = try await Self.phase(client, cm, id, version, #"{"phase":"goal_agreement"}"#)
            #expect((step.object["errors"] as? [String: String])?["route"] != nil)
            step = try await Self.phase(client, cm, id, version, #"{"phase":"goal_agreement","route":"counselling_referral"}"#)
            #expect(step.status == .unprocessableContent)
            let missing = (step.object["errors"] as? [String: String])?["phase"] ?? ""
            #expect(missing.contains("Aufenthaltsstatus") && missing.contains("Herkunftsland") && missing.contains("Deutschkenntnisse"))

            let record = try await client.api(.get, "/api/v1/clients/\(clientID)", token: cm)
            let clientVersion = try #require(record.headers[.eTag])
            let update = try await client.api(
                .put,
                "/api/v1/clients/\(clientID)",
                token: cm,
                json: Self.amira + #","residence_status":"Aufenthaltserlaubnis § 25 Abs. 2","country_of_origin":"Syrien","german_level":"A2"}"#,
                headers: [.ifMatch: clientVersion]
            )
            #expect(update.status == .ok, "\(update.text)")
            // A second save based on the same version conflicts and overwrites nothing.
            let stale = try await client.api(
                .put,
                "/api/v1/clients/\(clientID)",
                token: cm,
                json: Self.amira + "}",
                headers: [.ifMatch: clientVersion]
            )
            #expect(stale.status == .preconditionFailed)

            step = try await Self.phase(client, cm, id, version, #"{"phase":"goal_agreement","route":"counselling_referral"}"#)
            #expect(step.status == .ok, "\(step.text)")
            version = try #require(step.object["version"] as? Int)
            #expect(try await Self.phase(client, cm, id, version - 1, #"{"phase":"service_steering"}"#).status == .preconditionFailed)

            step = try await Self.phase(client, cm, id, version, #"{"phase":"service_steering"}"#)
            #expect((step.object["errors"] as? [String: String])?["phase"]?.contains("mindestens ein Ziel") == true)
            let goal = try await client.api(
                .post,
                "/api/v1/cases/\(id)/goals",
                token: cm,
                json: #"{"area":"language","text":"B1-Kurs beginnen","agreed_on":"2026-02-01","review_on":"2026-05-01"}"#
            )
            #expect(goal.status == .created)
            let goalID = try #require(goal.object["id"] as? String)
            step = try await Self.phase(client, cm, id, version, #"{"phase":"service_steering"}"#)
            version = try #require(step.object["version"] as? Int)
            step = try await Self.phase(client, cm, id, version, #"{"phase":"monitoring"}"#)
            #expect((step.object["errors"] as? [String: String])?["phase"]?.contains("Prüftermin") == true)
            step = try await Self.phase(client, cm, id, version, #"{"phase":"monitoring","next_review_on":"2026-06-01"}"#)
            #expect(step.status == .ok)
            version = try #require(step.object["version"] as? Int)

            let reviewed = try await client.api(
                .post,
                "/api/v1/cases/\(id)/goals/\(goalID)/review",
                token: cm,
                json: #"{"outcome":"achieved","note":"Kurs läuft"}"#,
                headers: [.ifMatch: "\"1\""]
            )
            #expect(reviewed.status == .ok)
            #expect(reviewed.object["outcome"] as? String == "achieved")
            #expect(
                try await client.api(.post, "/api/v1/cases/\(id)/notes", token: cm, json: #"{"text":"Termin bei der MBE vereinbart."}"#).status
                    == .noContent
            )

            step = try await Self.phase(client, cm, id, version, #"{"phase":"closure"}"#)
            #expect((step.object["errors"] as? [String: String])?["phase"]?.contains("Grund des Abschlusses") == true)
            step = try await Self.phase(client, cm, id, version, #"{"phase":"closure","closure_reason":"Ziele erreicht"}"#)
            #expect(step.status == .ok)
            #expect(step.object["closed_on"] as? String != nil)
            version = try #require(step.object["version"] as? Int)
            #expect(try await Self.phase(client, cm, id, version, #"{"phase":"monitoring"}"#).status == .unprocessableContent)
            #expect(try await client.api(.post, "/api/v1/cases/\(id)/notes", token: cm, json: #"{"text":"zu spät"}"#).status == .unprocessableContent)

            let timeline = try await client.api(.get, "/api/v1/cases/\(id)", token: cm).object["timeline"] as? [[String: Any]] ?? []
            let kinds = timeline.compactMap { $0["kind"] as? String }
            #expect(kinds.filter { $0 == "phase_changed" }.count == 5)
            #expect(kinds.contains("note") && kinds.contains("goal_added") && kinds.contains("goal_reviewed") && kinds.contains("opened"))

            // Every read and change of personal data is in the audit trail, with its purpose.
            let audited = try await db.owner.withTransaction { connection in
                try await connection.query(
                    "SELECT action FROM audit_log WHERE purpose = 'case_management' ORDER BY id",
                    logger: TestDatabase.logger
                ).collect().map { try $0.decode(String.self) }
            }
            for action in [
                "client.created", "consent.given", "case.opened", "client.read", "client.updated", "case.read", "case.phase_changed",
                "goal.added", "goal.reviewed", "case.note_added",
            ] {
                #expect(audited.contains(action), "\(action) audited")
            }
        }
    }

    @Test func withoutConsentAClientIsOnlyRegistered() async throws {
        try await TestApp.with { _, people, client in
            let cm = people["wittenCM"].token
            let clientID = try await Self.register(client, cm, consent: false)
            let refused = try await client.api(.post, "/api/v1/cases", token: cm, json: #"{"client_id":"\#(clientID)","channel":"level1"}"#)
            #expect(refused.status == .unprocessableContent)
            #expect((refused.object["errors"] as? [String: String])?["consent"]?.contains("Einwilligung") == true)
            let consent = try await client.api(
                .post,
                "/api/v1/clients/\(clientID)/consents",
                token: cm,
                json: #"{"scope":"case_management","given_on":"2026-02-01"}"#
            )
            #expect(consent.status == .created)
            let (id, version) = try await Self.openCase(client, cm, clientID)
            let consentID = try #require(consent.object["id"] as? String)
            #expect(
                try await client.api(.post, "/api/v1/clients/\(clientID)/consents/\(consentID)/withdraw", token: cm, json: "{}").status == .noContent
            )
            #expect(try await client.api(.post, "/api/v1/cases/\(id)/notes", token: cm, json: #"{"text":"x"}"#).status == .unprocessableContent)
            #expect(try await Self.phase(client, cm, id, version, #"{"phase":"assessment"}"#).status == .unprocessableContent)
            // Closing remains possible.
            #expect(try await Self.phase(client, cm, id, version, #"{"phase":"closure","closure_reason":"Einwilligung widerrufen"}"#).status == .ok)
            let handover = try await client.api(
                .post,
                "/api/v1/clients/\(clientID)/consents",
                token: cm,
                json: #"{"scope":"handover","given_on":"2026-02-01"}"#
            )
            #expect((handover.object["errors"] as? [String: String])?["recipient"] != nil)
        }
    }

    @Test func duplicatesAreCaughtAndSearchFindsNameBirthdayAndCaseNumber() async throws {
        try await TestApp.with { _, people, client in
            let cm = people["wittenCM"].token
            let first = try await Self.register(client, cm)
            let again = try await client.api(
                .post,
                "/api/v1/clients",
                token: cm,
                json: #"{"first_name":"amira","last_name":"HADDAD","date_of_birth":"1994-03-12"}"#
            )
            #expect(again.status == .conflict)
            #expect((again.object["errors"] as? [String: String])?["existing_client"] == first.lowercased())
            let confirmed = try await client.api(
                .post,
                "/api/v1/clients",
                token: cm,
                json: #"{"first_name":"Amira","last_name":"Haddad","date_of_birth":"1994-03-12","allow_duplicate":true}"#
            )
            #expect(confirmed.status == .created)
            let (caseID, _) = try await Self.openCase(client, cm, first)
            let number =
                try #require(try await client.api(.get, "/api/v1/cases/\(caseID)", token: cm).object["case"] as? [String: Any])["case_number"]
                as! String

            func found(_ q: String, _ token: String = cm) async throws -> [String] {
                try await client.api(.get, "/api/v1/clients?q=\(q.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)", token: token).array
                    .compactMap { $0["id"] as? String }
            }
            #expect(try await found("hadd").count == 2)
            #expect(try await found("amira haddad").count == 2)
            #expect(try await found("12.03.1994").count == 2)
            #expect(try await found("1994-03-12").count == 2)
            #expect(try await found(number) == [first])
            #expect(try await found("Müller").isEmpty)
            // Another tenant's case manager finds nothing and opens nothing.
            let other = people["hattingenCM"].token
            #expect(try await found("haddad", other).isEmpty)
            #expect(try await client.api(.get, "/api/v1/clients/\(first)", token: other).status == .notFound)
            #expect(try await client.api(.get, "/api/v1/cases/\(caseID)", token: other).status == .notFound)
            #expect(try await client.api(.post, "/api/v1/cases/\(caseID)/notes", token: other, json: #"{"text":"x"}"#).status == .notFound)
            // Roles without case work get 403.
            #expect(try await client.api(.get, "/api/v1/cases/\(caseID)", token: people["wittenAdmin"].token).status == .forbidden)
            #expect(try await client.api(.get, "/api/v1/clients?q=haddad", token: people["coordinator"].token).status == .forbidden)
            #expect(try await client.api(.get, "/api/v1/clients?q=h", token: cm).status == .unprocessableContent)
        }
    }

    @Test func aTenantsOwnFieldsAreValidated() async throws {
        try await TestApp.with { _, people, client in
            let admin = people["wittenAdmin"].token
            let defined = try await client.api(
                .post,
                "/api/v1/client-fields",
                token: admin,
                json: #"{"key":"wohnform","label":"Wohnform","kind":"choice","choices":["Sammelunterkunft","Wohnung"],"required":false}"#
            )
            #expect(defined.status == .created, "\(defined.text)")
            #expect(
                try await client.api(
                    .post,
                    "/api/v1/client-fields",
                    token: admin,
                    json: #"{"key":"wohnform","label":"x","kind":"text","choices":[],"required":false}"#
                ).status == .conflict
            )
            #expect(
                try await client.api(
                    .post,
                    "/api/v1/client-fields",
                    token: admin,
                    json: #"{"key":"x","label":"x","kind":"choice","choices":[],"required":false}"#
                ).status == .unprocessableContent
            )
            let cm = people["wittenCM"].token
            let wrong = try await client.api(.post, "/api/v1/clients", token: cm, json: Self.amira + #","extra":{"wohnform":"Zelt"}}"#)
            #expect(wrong.status == .unprocessableContent)
            #expect((wrong.object["errors"] as? [String: String])?["extra.wohnform"]?.contains("Sammelunterkunft") == true)
            let unknown = try await client.api(.post, "/api/v1/clients", token: cm, json: Self.amira + #","extra":{"schuhgroesse":"42"}}"#)
            #expect((unknown.object["errors"] as? [String: String])?["extra.schuhgroesse"] != nil)
            let right = try await client.api(.post, "/api/v1/clients", token: cm, json: Self.amira + #","extra":{"wohnform":"Wohnung"}}"#)
            #expect(right.status == .created)
            #expect(((right.object["data"] as? [String: Any])?["extra"] as? [String: Any])?["wohnform"] as? String == "Wohnung")
            // Hattingen does not have Witten's field.
            let hattingen = try await client.api(
                .post,
                "/api/v1/clients",
                token: people["hattingenCM"].token,
                json: Self.amira + #","extra":{"wohnform":"Wohnung"}}"#
            )
            #expect(hattingen.status == .unprocessableContent)
        }
    }

    @Test func theDistrictSetsItsDocumentationStandard() async throws {
        try await TestApp.with { _, people, client in
            let coordinator = people["coordinator"].token
            let set = try await client.api(
                .put,
                "/api/v1/districts/en-kreis/documentation-standard",
                token: coordinator,
                json: #"{"assessment":["household","languages"]}"#
            )
            #expect(set.status == .ok, "\(set.text)")
            #expect(set.object["assessment"] as? [String] == ["household", "languages"])
            #expect(
                try await client.api(
                    .put,
                    "/api/v1/districts/en-kreis/documentation-standard",
                    token: coordinator,
                    json: #"{"assessment":["schuhgroesse"]}"#
                ).status == .unprocessableContent
            )
            let cm = people["wittenCM"].token
            #expect(
                try await client.api(.get, "/api/v1/districts/en-kreis/documentation-standard", token: cm).object["assessment"] as? [String] == [
                    "household", "languages",
                ]
            )
            #expect(
                try await client.api(.put, "/api/v1/districts/en-kreis/documentation-standard", token: cm, json: #"{"assessment":[]}"#).status
                    == .forbidden
            )
            let clientID = try await Self.register(client, cm, json: #"{"first_name":"Jonas","last_name":"Berg","date_of_birth":"2001-07-30""#)
            let (id, version) = try await Self.openCase(client, cm, clientID)
            let refused = try await Self.phase(client, cm, id, version, #"{"phase":"assessment"}"#)
            #expect((refused.object["errors"] as? [String: String])?["phase"]?.contains("Haushalt und Familie") == true)
        }
    }

    @Test func badInputIsA4xxThatSaysWhatIsWrong() async throws {
        try await TestApp.with { _, people, client in
            let cm = people["wittenCM"].token
            let badDate = try await client.api(
                .post,
                "/api/v1/clients",
                token: cm,
                json: #"{"first_name":"A","last_name":"B","date_of_birth":"30.02.2001"}"#
            )
            #expect(badDate.status == .badRequest)
            #expect((badDate.object["detail"] as? String)?.contains("date_of_birth") == true)
            let future = try await client.api(
                .post,
                "/api/v1/clients",
                token: cm,
                json: #"{"first_name":" ","last_name":"B","date_of_birth":"2099-01-01","german_level":"C3"}"#
            )
            #expect(future.status == .unprocessableContent)
            #expect(Set((future.object["errors"] as? [String: String])?.keys.map { $0 } ?? []) == ["first_name", "date_of_birth", "german_level"])
            let badChannel = try await client.api(.post, "/api/v1/cases", token: cm, json: #"{"client_id":"\#(UUID())","channel":"level3"}"#)
            #expect(badChannel.status == .badRequest)
            let noClient = try await client.api(.post, "/api/v1/cases", token: cm, json: #"{"client_id":"\#(UUID())","channel":"level1"}"#)
            #expect(noClient.status == .notFound)
            #expect(try await client.api(.get, "/api/v1/cases/kein-fall", token: cm).status == .notFound)
        }
    }

    @Test func teamLeadsSeeTheTenantsCaseloadCaseManagersTheirOwn() async throws {
        try await TestApp.with { _, people, client in
            let cm = people["wittenCM"].token
            let clientID = try await Self.register(client, cm)
            _ = try await Self.openCase(client, cm, clientID)
            #expect(try await client.api(.get, "/api/v1/cases?scope=tenant", token: cm).status == .forbidden)
            #expect(try await client.api(.get, "/api/v1/cases", token: people["wittenLead"].token).array.isEmpty)
            let all = try await client.api(.get, "/api/v1/cases?scope=tenant", token: people["wittenLead"].token).array
            #expect(all.count == 1)
            #expect(all.first?["owner_name"] as? String == "wittenCM")
            #expect(try await client.api(.get, "/api/v1/cases?scope=tenant", token: people["hattingenCM"].token).status == .forbidden)
            #expect(try await client.api(.get, "/api/v1/cases?scope=alle", token: cm).status == .unprocessableContent)
        }
    }
}
