import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import Testing

@testable import Kreiswerk

/// The service directory maintained where it lives (issue 20): carriers' administrators and counsellors and the district's
/// coordinators keep services through the API and the browser (versioned, audited); everyone of the district finds them by
/// town, language, programme, legal sphere and intake; the referring case manager hears back.
@Suite struct ServiceDirectoryTests {
    /// Accounts of the carriers: AWO's and Caritas's counsellors, AWO's administrator; name → token.
    static func carrierStaff(_ db: TestDatabase) async throws -> [String: String] {
        let operators = OperatorAccounts(database: db.owner, passwords: Passwords(cost: 4))
        var tokens: [String: String] = [:]
        for (name, tenant, role) in [
            ("awoCounsellor", "awo-en", Role.counsellor), ("caritasCounsellor", "caritas-en", .counsellor), ("awoAdmin", "awo-en", .tenantAdmin),
        ] {
            let email = "\(name.lowercased())@\(tenant).test"
            _ = try await operators.create(tenant: tenant, email: email, displayName: name, roles: [role], password: TestApp.password)
            tokens[name] = try await operators.createToken(email: email, name: "t", expiresInDays: 1).1.value
        }
        return tokens
    }

    static let arabicInWitten =
        #"{"name":"Flüchtlingsberatung Witten-Annen","programme":"refugee_counselling","towns":["witten"],"languages":["ar","de"],"legal_spheres":["AufenthG"],"description":"Beratung zu Asylverfahren und Familiennachzug.","address":"Annenstraße 1, 58453 Witten","opening_hours":"Di und Do 9–12 Uhr","contact_email":"fb-annen@awo-en.test","takes_new_clients":true,"waiting_weeks":2}"#

    static func keys(_ response: TestResponse) -> Set<String> { Set(response.array.compactMap { $0["key"] as? String }) }

    @Test func aCounsellorPublishesAServiceThatWittenFindsByLanguageAndHattingenDoesNot() async throws {
        try await TestApp.with { db, people, client in
            let staff = try await Self.carrierStaff(db)
            // Before: the directory needed case rights, so a counsellor could not even see it.
            #expect(try await client.api(.get, "/api/v1/services", token: staff["awoCounsellor"]).status == .ok)
            let created = try await client.api(.post, "/api/v1/services", token: staff["awoCounsellor"], json: Self.arabicInWitten)
            #expect(created.status == .created, "\(created.text)")
            #expect(created.headers[.eTag] == "\"1\"")
            #expect(created.object["carrier"] as? String == "awo-en")
            #expect(created.object["managed_by"] as? String == "api")
            let key = try #require(created.object["key"] as? String)

            let cm = people["wittenCM"].token
            let arabic = try await client.api(.get, "/api/v1/services?town=witten&language=ar", token: cm)
            #expect(Self.keys(arabic).contains(key))
            #expect(!Self.keys(arabic).contains("mbe-caritas"), "Caritas's MBE names no Arabic")
            #expect(Self.keys(try await client.api(.get, "/api/v1/services?q=Familiennachzug", token: cm)) == [key])
            #expect(!Self.keys(try await client.api(.get, "/api/v1/services?town=hattingen", token: people["hattingenCM"].token)).contains(key))
            #expect(
                Self.keys(try await client.api(.get, "/api/v1/services?programme=refugee_counselling&takes_new_clients=true", token: cm)).contains(
                    key
                )
            )

            // Its page: carrier, contact, and the referrals it answered (none yet).
            let id = try #require(created.object["id"] as? String)
            let detail = try await client.api(.get, "/api/v1/services/\(id)", token: cm)
            #expect(detail.status == .ok)
            #expect((detail.object["service"] as? [String: Any])?["carrier_name"] as? String == "AWO Ennepe-Ruhr")
            #expect((detail.object["answers"] as? [String: Any])?["received"] as? Int == 0)
            #expect(detail.object["may_maintain"] as? Bool == false)

            // Audited.
            let audited = try await db.owner.withTransaction {
                try await $0.query(
                    "SELECT count(*)::integer FROM audit_log WHERE action = 'service.created' AND object_id = \(id)",
                    logger: TestDatabase.logger
                )
                .collect().first!.decode(Int.self)
            }
            #expect(audited == 1)
        }
    }

    @Test func theTownFilterOffersAWittenCaseNoServiceOfOtherTownsAndRefusesAReferralToOne() async throws {
        try await TestApp.with { db, people, client in
            let cm = people["wittenCM"].token
            #expect(!Self.keys(try await client.api(.get, "/api/v1/services?town=witten", token: cm)).contains("wohnungssuche-vhs"))
            #expect(Self.keys(try await client.api(.get, "/api/v1/services?town=schwelm", token: cm)).contains("wohnungssuche-vhs"))

            let clientID = try await CaseWorkflowTests.register(client, cm, json: CaseWorkflowTests.amira + #","place_of_residence":"Witten""#)
            let (caseID, _) = try await CaseWorkflowTests.openCase(client, cm, clientID)
            // The case page's chooser offered the service limited to Breckerfeld, Ennepetal and Schwelm (the bug).
            var browser = WebBrowser()
            _ = try await browser.signIn(people["wittenCM"].email, client)
            let page = try await browser.get("/faelle/\(caseID)", client)
            #expect(page.status == .ok)
            #expect(page.text.contains("Migrationsberatung für erwachsene Zuwanderer (MBE) – AWO"))
            #expect(!page.text.contains("Beratung bei der Wohnungssuche"))
            // From the case, the directory preselects the client's town.
            let fromCase = try await browser.get("/angebote?fall=\(caseID)", client)
            #expect(fromCase.status == .ok)
            #expect(fromCase.text.contains(#"<option value="witten" selected>"#))
            #expect(!fromCase.text.contains("Beratung bei der Wohnungssuche"))

            let all = try await client.api(.get, "/api/v1/services", token: cm).array
            let housing = try #require(all.first { $0["key"] as? String == "wohnungssuche-vhs" }?["id"] as? String)
            let refused = try await client.api(
                .post,
                "/api/v1/cases/\(caseID)/referrals",
                token: cm,
                json: #"{"service_id":"\#(housing)","reason":"Wohnung","consent_given_on":"2026-02-01"}"#
            )
            #expect(refused.status == .unprocessableContent)
            #expect(((refused.object["errors"] as? [String: Any])?["service_id"] as? String)?.contains("anderen Städten") == true)
        }
    }

    @Test func aCarrierCannotChangeAnotherCarriersServiceNorCaseWorkersAny() async throws {
        try await TestApp.with { db, people, client in
            let staff = try await Self.carrierStaff(db)
            let all = try await client.api(.get, "/api/v1/services", token: people["wittenCM"].token).array
            let awo = try #require(all.first { $0["key"] as? String == "mbe-awo" }?["id"] as? String)
            let version = try #require(all.first { $0["key"] as? String == "mbe-awo" }?["version"] as? Int)
            let body = #"{"name":"Übernommen","programme":"mbe","carrier":"caritas-en","languages":["de"]}"#
            let ifMatch: HTTPFields = [.ifMatch: "\"\(version)\""]
            let foreign = try await client.api(.put, "/api/v1/services/\(awo)", token: staff["caritasCounsellor"], json: body, headers: ifMatch)
            #expect(foreign.status == .notFound)
            #expect(
                try await client.api(.post, "/api/v1/services/\(awo)/retire", token: staff["caritasCounsellor"], headers: ifMatch).status == .notFound
            )
            #expect(
                try await client.api(.put, "/api/v1/services/\(awo)", token: people["wittenCM"].token, json: body, headers: ifMatch).status
                    == .forbidden
            )
            #expect(try await client.api(.post, "/api/v1/services", token: people["wittenCM"].token, json: Self.arabicInWitten).status == .forbidden)
            // A counsellor publishes only for their own carrier.
            let other = try await client.api(
                .post,
                "/api/v1/services",
                token: staff["awoCounsellor"],
                json: #"{"name":"Fremd","programme":"mbe","carrier":"caritas-en","languages":["de"]}"#
            )
            #expect(other.status == .unprocessableContent)
            #expect((other.object["errors"] as? [String: Any])?["carrier"] != nil)
            // The database holds the same line, whatever the application asks.
            let awoTenant = try await db.owner.withTransaction {
                try await $0.query("SELECT id FROM tenants WHERE slug = 'caritas-en'", logger: TestDatabase.logger).collect().first!.decode(UUID.self)
            }
            let changed = try await db.app.withTenant(awoTenant) {
                try await $0.query("UPDATE services SET name = 'x' WHERE id = \(UUID(uuidString: awo)!) RETURNING 1", logger: TestDatabase.logger)
                    .collect().count
            }
            #expect(changed == 0)
        }
    }

    @Test func aStaleEditIs412AMissingVersion428AndTheCoordinatorsKeepEveryService() async throws {
        try await TestApp.with { db, people, client in
            let all = try await client.api(.get, "/api/v1/services", token: people["coordinator"].token).array
            let entry = try #require(all.first { $0["key"] as? String == "mbe-awo" })
            let id = try #require(entry["id"] as? String)
            let version = try #require(entry["version"] as? Int)
            let body =
                #"{"name":"MBE – AWO (Witten und Hattingen)","programme":"mbe","carrier":"awo-en","towns":["witten","hattingen"],"languages":["de","en","ar"],"takes_new_clients":false,"waiting_weeks":6}"#
            let coordinator = people["coordinator"].token
            #expect(try await client.api(.put, "/api/v1/services/\(id)", token: coordinator, json: body).status.code == 428)
            let changed = try await client.api(.put, "/api/v1/services/\(id)", token: coordinator, json: body, headers: [.ifMatch: "\"\(version)\""])
            #expect(changed.status == .ok, "\(changed.text)")
            #expect(changed.headers[.eTag] == "\"\(version + 1)\"")
            #expect(changed.object["takes_new_clients"] as? Bool == false)
            let stale = try await client.api(.put, "/api/v1/services/\(id)", token: coordinator, json: body, headers: [.ifMatch: "\"\(version)\""])
            #expect(stale.status.code == 412)
            #expect(stale.text.contains("inzwischen geändert"))

            // Changed in the browser, the service is no longer the file's: applying the files again leaves it, and says so.
            let (_, summary) = try await TenantsFolder.apply(TestDatabase.tenantsDirectory, database: db.owner)
            #expect(summary == "Services: no changes (1 named in services.yaml kept in the browser since, left as they are).")
            let after = try await client.api(.get, "/api/v1/services/\(id)", token: coordinator)
            #expect((after.object["service"] as? [String: Any])?["name"] as? String == "MBE – AWO (Witten und Hattingen)")
            #expect(!Self.keys(try await client.api(.get, "/api/v1/services?town=schwelm", token: coordinator)).contains("mbe-awo"))
            #expect(!Self.keys(try await client.api(.get, "/api/v1/services?takes_new_clients=true", token: coordinator)).contains("mbe-awo"))
        }
    }

    @Test func badInputNamesTheFieldInGerman() async throws {
        try await TestApp.with { db, _, client in
            let staff = try await Self.carrierStaff(db)
            let token = staff["awoAdmin"]
            let empty = try await client.api(.post, "/api/v1/services", token: token, json: "{}")
            #expect(empty.status == .unprocessableContent)
            let errors = try #require(empty.object["errors"] as? [String: String])
            #expect(Set(errors.keys) == ["name", "programme", "languages"])
            let wrong = try await client.api(
                .post,
                "/api/v1/services",
                token: token,
                json:
                    #"{"name":"X","programme":"mbe","towns":["dortmund"],"languages":["xx"],"legal_spheres":["SGB IX"],"contact_email":"keine","waiting_weeks":300}"#
            )
            let wrongErrors = try #require(wrong.object["errors"] as? [String: String])
            #expect(Set(wrongErrors.keys) == ["towns", "languages", "legal_spheres", "contact_email", "waiting_weeks"])
            #expect(wrongErrors["towns"]?.contains("keine Stadt des Kreises") == true)
            let filter = try await client.api(.get, "/api/v1/services?programme=astrologie&takes_new_clients=ja", token: token)
            #expect(filter.status == .unprocessableContent)
            #expect(Set((filter.object["errors"] as? [String: String] ?? [:]).keys) == ["programme", "takes_new_clients"])
            #expect(try await client.api(.get, "/api/v1/services/\(UUID())", token: token).status == .notFound)
        }
    }

    /// services.yaml goes through the same validation, with the same messages.
    @Test func theFileIsCheckedWithTheSameMessages() throws {
        let tenants = try TenantFiles.load(from: TestDatabase.tenantsDirectory)
        let bad = CounsellingService(
            key: "X y",
            name: "X",
            programme: "mbe",
            carrier: "awo-en",
            legalSpheres: [],
            towns: ["dortmund"],
            languages: ["de"],
            takesNewClients: true
        )
        let problems = ServiceFiles.check([bad], district: "en-kreis", file: "services.yaml", tenants: tenants)
        #expect(problems.map { $0.field ?? "" }.sorted() == ["X y.key", "X y.towns"])
        let draft = ServiceDraft(name: "X", programme: "mbe", carrier: "awo-en", towns: ["dortmund"], languages: ["de"])
        let context = ServiceDraft.Context(carriers: ["awo-en": "AWO"], towns: ["witten": "Stadt Witten"], districtName: "Ennepe-Ruhr-Kreis")
        #expect(problems.first { $0.field == "X y.towns" }?.message == draft.problems(in: context)["towns"])
        // The shipped file: the Medizinische Flüchtlingshilfe is an outside actor (seed 004), not a service of DRK Witten.
        let shipped = try ServiceFiles.load(from: TestDatabase.tenantsDirectory, tenants: tenants)["en-kreis"] ?? []
        #expect(!shipped.contains { $0.programme == "medical_refugee_aid" && $0.carrier == "drk-witten" })
    }

    @Test func aRetiredServiceKeepsItsReferralsAndTheSenderHearsEveryAnswer() async throws {
        try await TestApp.with { db, people, client in
            let (_, caseID, referralID) = try await ReferralGrantTests.refer(client, people)
            let awo = try await ReferralGrantTests.carrierStaff(db)
            let receiver = try await OperatorAccounts(database: db.owner).createToken(email: awo.email, name: "t", expiresInDays: 1).1.value
            let cm = people["wittenCM"].token
            func answered() async throws -> [[String: Any]] {
                try await client.api(.get, "/api/v1/notifications", token: cm).array.filter { $0["kind"] as? String == "referral_answered" }
            }
            #expect(try await answered().isEmpty)
            #expect(
                try await client.api(.post, "/api/v1/referrals/\(referralID)/responses", token: receiver, json: #"{"kind":"accepted"}"#).status
                    == .created
            )
            let accepted = try await answered()
            #expect(accepted.count == 1)
            #expect(accepted.first?["link"] as? String == "/faelle/\(caseID.lowercased())")
            #expect((accepted.first?["title"] as? String)?.contains("angenommen") == true)
            #expect((accepted.first?["title"] as? String)?.contains("Amira") == false, "never the client's name")
            _ = try await client.api(
                .post,
                "/api/v1/referrals/\(referralID)/responses",
                token: receiver,
                json: #"{"kind":"feedback","outcome":"started","note":"Kurs begonnen"}"#
            )
            #expect(try await answered().count == 2)

            // The coordinators retire AWO's MBE: no longer offered, the referral stays with its answers, and its page counts it.
            let coordinator = people["coordinator"].token
            let all = try await client.api(.get, "/api/v1/services", token: coordinator).array
            let entry = try #require(all.first { $0["key"] as? String == "mbe-awo" })
            let id = try #require(entry["id"] as? String)
            let retired = try await client.api(
                .post,
                "/api/v1/services/\(id)/retire",
                token: coordinator,
                headers: [.ifMatch: "\"\(entry["version"] as? Int ?? 0)\""]
            )
            #expect(retired.status == .ok, "\(retired.text)")
            #expect(retired.object["active"] as? Bool == false)
            #expect(!Self.keys(try await client.api(.get, "/api/v1/services", token: cm)).contains("mbe-awo"))
            let referrals = try await client.api(.get, "/api/v1/cases/\(caseID)/referrals", token: cm).array
            #expect(referrals.first?["state"] as? String == "feedback")
            let counts = try await client.api(.get, "/api/v1/services/\(id)", token: cm).object["answers"] as? [String: Any]
            #expect(counts?["received"] as? Int == 1 && counts?["answered"] as? Int == 1 && counts?["answered_in_time"] as? Int == 1)
        }
    }

    @Test func theFormKeepsTheInputOnAStaleEditAndPublishesForTheOwnCarrier() async throws {
        try await TestApp.with { db, _, client in
            _ = try await Self.carrierStaff(db)
            var counsellor = WebBrowser()
            _ = try await counsellor.signIn("awocounsellor@awo-en.test", client)
            #expect(try await counsellor.get("/angebote", client).text.contains(#"href="/neues-angebot""#))
            _ = try await counsellor.get("/neues-angebot", client)
            let missing = try await counsellor.post("/angebote", [("name", "Beratung Annen")], client)
            #expect(missing.status == .unprocessableContent)
            #expect(missing.text.contains("Bitte mindestens eine Sprache"))
            #expect(missing.text.contains("value=\"Beratung Annen\""))
            let published = try await counsellor.post(
                "/angebote",
                [
                    ("name", "Beratung Annen"), ("programme", "refugee_counselling"), ("carrier", "awo-en"), ("towns", "witten"),
                    ("languages", "ar"), ("takes_new_clients", "1"), ("waiting_weeks", "1"),
                ],
                client
            )
            #expect(published.status == .seeOther || published.status == .found, "\(published.text)")
            let location = try #require(published.headers[.location])
            let page = try await counsellor.get(location, client)
            #expect(page.text.contains("Angebot veröffentlicht"))
            #expect(page.text.contains("Arabisch"))
            let path = String(location.split(separator: "?")[0])
            _ = try await counsellor.get("\(path)/bearbeiten", client)
            let first = try await counsellor.post(
                path,
                [
                    ("version", "1"), ("name", "Beratung Annen"), ("programme", "refugee_counselling"), ("languages", "ar"),
                    ("takes_new_clients", "0"),
                ],
                client
            )
            #expect(first.status == .seeOther || first.status == .found)
            _ = try await counsellor.get("\(path)/bearbeiten", client)
            let stale = try await counsellor.post(
                path,
                [
                    ("version", "1"), ("name", "Beratung Annen-Rüdinghausen"), ("programme", "refugee_counselling"), ("languages", "ar"),
                    ("takes_new_clients", "1"),
                ],
                client
            )
            #expect(stale.status == .conflict)
            #expect(stale.text.contains("inzwischen geändert"))
            #expect(stale.text.contains("value=\"Beratung Annen-Rüdinghausen\""), "the input is kept")
        }
    }
}
