import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import Kreiswerk

/// The people and objects of the access matrix (`AccessMatrixTests`): accounts for every role in two tenants of each
/// kind where the role exists, and one object of every kind per tenant, made through the API as their owners make them.
struct AccessMatrixFixture: Sendable {
    /// One person who requests every route.
    struct Account: Sendable {
        var name: String
        var tenant: String
        /// The tenant's kind: platform, district, municipality, carrier, authority.
        var kind: String
        /// The district's slug (the tenant's own for a district; empty for the platform).
        var district: String
        var roles: Set<Role>
        var email: String
        var token: String
        var cookie = ""
        var csrf = ""

        func has(_ any: Role...) -> Bool { !roles.isDisjoint(with: any) }
        /// Case work: clients, cases, goals, referrals, conferences of the own tenant (`Permission.workCases`).
        var worksCases: Bool { has(.caseManager, .teamLead) }
        /// The roles `Permission.attendConferences` names.
        var attendsConferences: Bool {
            has(.caseManager, .teamLead, .districtCoordinator, .districtAssistant, .abhOfficer, .partner, .counsellor)
        }
        /// The roles `Permission.answerReferrals` names: they receive and answer referrals to their tenant's services.
        var answersReferrals: Bool { has(.caseManager, .teamLead, .counsellor) }
        /// A counsellor with no case-work role: sees nothing of their own tenant's case management.
        var counselsOnly: Bool { has(.counsellor) && !worksCases }
        var coordinates: Bool { has(.districtCoordinator) }
        var runsCommittees: Bool { has(.districtCoordinator, .districtAssistant) }
    }

    enum Kind: String, Sendable, CaseIterable {
        case client, consent, `case`, goal, referral, conference, actionItem, report, problem, poll
        case projectGroup, groupMember, groupTask, groupMeeting, steeringMember, steeringMeeting, paper
        case user, tenant, district, notification, token, job, standIn, abhApplication, precheck, service, campaign, handbookSection
    }

    /// One object: its ids by name (`client`, `case`, `goal`, …), whose it is and who has a grant on it.
    struct Object: Sendable {
        var kind: Kind
        var ids: [String: String]
        /// The tenant that owns it (a report: the reporter's; a poll: the problem's district).
        var owner: String
        var ownerDistrict: String
        /// For an object of one person (account, notification, token).
        var ownerAccount: String? = nil
        /// Tenants granted it as a whole (a referral's receiver, a conference's participants).
        var grantedTenants: Set<String> = []
        /// People granted it by name (conference invitees, project group members).
        var grantedAccounts: Set<String> = []
        /// The tenant that receives it: a report's town, a poll's polled town.
        var recipient: String? = nil
        /// The district whose coordinators were asked to moderate a conference.
        var moderator: String? = nil
        /// The district whose coordinators lead a district conference (issue 19), and the case manager who asked them.
        var ledBy: String? = nil
        var requester: String? = nil

        var label: String { "\(ownerAccount ?? owner)'s \(kind.rawValue)" }
    }

    var accounts: [Account] = []
    var objects: [Object] = []
    /// Accounts the database refused to create (a role outside what the tenant's kind allows): name and reason.
    var refusedAccounts: [String] = []

    subscript(_ name: String) -> Account { accounts.first { $0.name == name }! }

    // MARK: - Accounts

    /// The second district, with one town: so that "another district's ids" exist for the district tenant's roles.
    static let secondDistrict: [String: String] = [
        "mx-kreis.yaml": "slug: mx-kreis\nname: Matrix-Kreis\nkind: district\n",
        "mx-stadt.yaml": "slug: mx-stadt\nname: Stadt Matrixhausen\nkind: municipality\ndistrict: mx-kreis\n",
        "mx-traeger.yaml": "slug: mx-traeger\nname: Matrix-Beratung\nkind: carrier\ndistrict: mx-kreis\n",
    ]

    /// name, tenant, roles, and whether the design's table of roles may refuse it (issue 15, finding 11: the district
    /// tenant's case workers); TestApp.People's accounts come first and are reused.
    static let roster: [(String, String, [Role], Bool)] = [
        ("ekAdmin", "en-kreis", [.tenantAdmin], false),
        ("ekPartner", "en-kreis", [.partner], false),
        ("ekSteering", "en-kreis", [.steeringMember], false),
        ("ekCM", "en-kreis", [.caseManager], true),
        ("ekLead", "en-kreis", [.teamLead], true),
        ("ekABH", "en-kreis", [.abhOfficer], true),
        ("mxCoordinator", "mx-kreis", [.districtCoordinator], false),
        ("mxAssistant", "mx-kreis", [.districtAssistant], false),
        ("mxCM", "mx-stadt", [.caseManager], false),
        ("wittenPartner", "witten", [.partner], false),
        ("hattingenLead", "hattingen", [.teamLead], false),
        ("awoAdmin", "awo-en", [.tenantAdmin], false),
        ("awoLead", "awo-en", [.teamLead], false),
        ("awoCM", "awo-en", [.caseManager], false),
        ("caritasCM", "caritas-en", [.caseManager], false),
        ("caritasLead", "caritas-en", [.teamLead], false),
        ("caritasPartner", "caritas-en", [.partner], false),
        ("abhAdmin", "en-kreis-abh", [.tenantAdmin], false),
        ("abhColleague", "en-kreis-abh", [.abhOfficer], false),
        ("awoCounsellor", "awo-en", [.counsellor], false),
        ("caritasCounsellor", "caritas-en", [.counsellor], false),
        ("abhCounsellor", "en-kreis-abh", [.counsellor], false),
        ("wittenCounsellor", "witten", [.counsellor], true),
        ("ekCoordinator", "en-kreis", [.districtCoordinator], false),
    ]

    /// Applies the second district, creates the accounts, signs each in to the web pages, and makes the objects.
    static func make(_ db: TestDatabase, _ people: TestApp.People, _ client: some TestClientProtocol) async throws -> AccessMatrixFixture {
        try await withTemporaryDirectory { folder in
            try copyContents(of: TestDatabase.tenantsDirectory, to: folder)
            let second = folder.appendingPathComponent("mx-kreis")
            try FileManager.default.createDirectory(at: second, withIntermediateDirectories: true)
            for (file, text) in secondDistrict { try text.write(to: second.appendingPathComponent(file), atomically: true, encoding: .utf8) }
            _ = try await TenantsFolder.apply(folder, database: db.owner)
        }
        let tenants = Dictionary(uniqueKeysWithValues: try await TenantCatalogue(database: db.owner).list().map { ($0.tenant.slug, $0.tenant) })
        func account(_ name: String, _ tenant: String, _ roles: Set<Role>, _ email: String, _ token: String) -> Account {
            let stored = tenants[tenant]
            let kind = tenant == "betrieb" ? "platform" : stored.map { "\($0.kind.rawValue)" } ?? "?"
            let district = kind == "district" ? tenant : stored?.district ?? ""
            return Account(name: name, tenant: tenant, kind: kind, district: district, roles: roles, email: email, token: token)
        }
        var fixture = AccessMatrixFixture()
        for (name, (tenant, roles)) in TestApp.People.people.sorted(by: { $0.key < $1.key }) {
            fixture.accounts.append(account(name, tenant, Set(roles), people[name].email, people[name].token))
        }
        let operators = OperatorAccounts(database: db.owner, passwords: Passwords(cost: 4))
        for (name, tenant, roles, mayBeRefused) in roster {
            let email = "\(name.lowercased())@\(tenant).test"
            do {
                _ = try await operators.create(tenant: tenant, email: email, displayName: name, roles: Set(roles), password: TestApp.password)
            } catch  where mayBeRefused {
                fixture.refusedAccounts.append("\(name) (\(tenant), \(roles.map(\.rawValue).joined(separator: ","))): \(error)")
                continue
            }
            let (_, secret) = try await operators.createToken(email: email, name: "matrix", expiresInDays: 1)
            fixture.accounts.append(account(name, tenant, Set(roles), email, secret.value))
        }
        for index in fixture.accounts.indices {
            var browser = WebBrowser()
            let signedIn = try await browser.signIn(fixture.accounts[index].email, client)
            #expect(signedIn.status == .seeOther, "\(fixture.accounts[index].name) signs in")
            _ = try await browser.get("/konto", client)
            fixture.accounts[index].cookie = browser.cookieHeader
            fixture.accounts[index].csrf = try #require(browser.csrfToken, "\(fixture.accounts[index].name): a CSRF token on /konto")
        }
        try await fixture.makeObjects(client, tenants: tenants)
        return fixture
    }

    // MARK: - Objects

    /// Posts JSON as `account`, expects `status`, returns the answer.
    func post(
        _ client: some TestClientProtocol,
        _ account: String,
        _ path: String,
        _ json: String,
        _ status: HTTPResponse.Status = .created,
        method: HTTPRequest.Method = .post
    ) async throws -> TestResponse {
        let response = try await client.api(method, path, token: self[account].token, json: json)
        #expect(response.status == status, "fixture: \(account) \(method) \(path): \(response.text)")
        return response
    }

    func id(_ response: TestResponse, _ path: String = "id") throws -> String {
        try #require(response.object[path] as? String, "id in \(response.text)")
    }

    mutating func add(_ kind: Kind, _ ids: [String: String], owner: String, district: String, _ adjust: (inout Object) -> Void = { _ in }) {
        var object = Object(kind: kind, ids: ids, owner: owner, ownerDistrict: district)
        adjust(&object)
        objects.append(object)
    }

    /// What each case-work tenant makes: (its case manager, last name, referral service and its carrier, conference participants,
    /// conference kind and whether it asks the district to moderate, invitees by name, whether it raises a problem).
    static let caseWork:
        [(
            cm: String, lastName: String, service: (String, String)?, participants: [String], kind: String, moderated: Bool, invitees: [String],
            raises: Bool
        )] = [
            ("wittenCM", "Haddad", ("mbe-awo", "awo-en"), ["awo-en"], "municipal", true, ["abh", "caritasCounsellor"], true),
            ("hattingenCM", "Petrova", ("mbe-caritas", "caritas-en"), ["caritas-en"], "district", false, [], true),
            ("awoCM", "Nowak", ("mbe-caritas", "caritas-en"), ["hattingen"], "municipal", false, [], false),
            ("caritasCM", "Yilmaz", ("teilhabemanagement-awo", "awo-en"), ["witten"], "municipal", false, ["wittenLead"], false),
            ("mxCM", "Osei", nil, ["mx-traeger"], "municipal", true, [], true),
        ]

    mutating func makeObjects(_ client: some TestClientProtocol, tenants: [String: Tenant]) async throws {
        let today = Day.today.iso
        for work in Self.caseWork {
            let cm = self[work.cm]
            let (tenant, district) = (cm.tenant, cm.district)
            let registered = try await post(
                client,
                work.cm,
                "/api/v1/clients",
                #"{"first_name":"Mira","last_name":"\#(work.lastName)","date_of_birth":"1990-04-02","gender":"female","arrival_date":"2025-09-01","languages":["ar"],"consent_given_on":"2026-01-05"}"#
            )
            let clientID = try id(registered)
            add(.client, ["client": clientID], owner: tenant, district: district)
            let record = try await client.api(.get, "/api/v1/clients/\(clientID)", token: cm.token).object
            let consent = try #require((record["consents"] as? [[String: Any]])?.first?["id"] as? String, "a consent in \(record)")
            add(.consent, ["client": clientID, "consent": consent], owner: tenant, district: district)
            let opened = try await post(
                client,
                work.cm,
                "/api/v1/cases",
                #"{"client_id":"\#(clientID)","channel":"level1","reason":"Wohnungssuche"}"#
            )
            let caseID = try id(opened)
            add(.case, ["case": caseID], owner: tenant, district: district)
            let goal = try await post(
                client,
                work.cm,
                "/api/v1/cases/\(caseID)/goals",
                #"{"area":"language","text":"B1-Kurs","agreed_on":"\#(today)","review_on":"2027-03-01"}"#
            )
            add(.goal, ["case": caseID, "goal": try id(goal)], owner: tenant, district: district)
            if let receiver = work.service {
                let (service, carrier) = receiver
                let services = try await client.api(.get, "/api/v1/services", token: cm.token).array
                let serviceID = try #require(services.first { $0["key"] as? String == service }?["id"], "service \(service)")
                let referral = try await post(
                    client,
                    work.cm,
                    "/api/v1/cases/\(caseID)/referrals",
                    #"{"service_id":"\#(serviceID)","reason":"Beratung","consent_given_on":"2026-02-01"}"#
                )
                add(.referral, ["referral": try id(referral)], owner: tenant, district: district) { $0.grantedTenants = [carrier] }
            }
            let invitees = work.invitees.map { "\"\(self[$0].email)\"" }.joined(separator: ",")
            let participants = work.participants.map { "\"\($0)\"" }.joined(separator: ",")
            let conference = try await post(
                client,
                work.cm,
                "/api/v1/cases/\(caseID)/conferences",
                #"{"kind":"\#(work.kind)","title":"Fallkonferenz","scheduled_at":"2026-12-01T10:00:00Z","summary":"Wohnung und Schule.","participants":[\#(participants)],"invitees":[\#(invitees)],"request_moderator":\#(work.moderated),"consent_given_on":"2026-03-01"}"#
            )
            let conferenceID = try id(conference)
            let item = try await post(
                client,
                work.cm,
                "/api/v1/conferences/\(conferenceID)/action-items",
                #"{"text":"Schulamt anrufen","owner":"CM","due_on":"2026-12-15"}"#
            )
            let itemID = try #require((item.object["action_items"] as? [[String: Any]])?.first?["id"] as? String ?? item.object["id"] as? String)
            let moderator = work.kind == "district" || work.moderated ? district : nil
            for (kind, ids) in [(Kind.conference, ["conference": conferenceID]), (.actionItem, ["conference": conferenceID, "item": itemID])] {
                add(kind, ids, owner: tenant, district: district) {
                    $0.grantedTenants = Set(work.participants)
                    $0.grantedAccounts = Set(work.invitees)
                    $0.moderator = moderator
                    $0.ledBy = work.kind == "district" ? district : nil
                    $0.requester = work.cm
                }
            }
            if work.raises {
                let raised = try await post(
                    client,
                    work.cm,
                    "/api/v1/problems",
                    #"{"title":"Keine Kurse mit Kinderbetreuung","category":"structural_gap","description":"Alleinerziehende finden keine Kurse.","legal_spheres":["SGB II"],"district_wide_actor":false,"case_ids":["\#(caseID)"]}"#
                )
                add(.problem, ["problem": try id(raised)], owner: tenant, district: district)
            }
        }

        // Level-2 reports from the partners to the towns; the reporter's tenant owns the report.
        for (reporter, town) in [("partner", "witten"), ("caritasPartner", "hattingen"), ("abh", "witten")] {
            let sent = try await post(
                client,
                reporter,
                "/api/v1/reports",
                #"{"town":"\#(town)","complexity":"jurisdiction_interplay","first_name":"Nadia","last_name":"Petrova","date_of_birth":"1979-05-20","languages":["ru"],"contact":"über die Beratung","description":"Jobcenter und Ausländerbehörde verweisen aufeinander.","consent_given_on":"2026-03-01"}"#
            )
            add(.report, ["report": try id(sent)], owner: self[reporter].tenant, district: self[reporter].district) { $0.recipient = town }
        }

        // A poll of the other towns about Witten's problem: Hattingen's copy.
        let wittenProblem = try #require(objects.first { $0.kind == .problem && $0.owner == "witten" }?.ids["problem"])
        _ = try await post(client, "coordinator", "/api/v1/problems/\(wittenProblem)/polls", #"{"question":"Kennen Sie das?"}"#)
        let poll = try #require(try await client.api(.get, "/api/v1/polls", token: self["hattingenCM"].token).array.first?["id"] as? String)
        add(.poll, ["poll": poll], owner: "en-kreis", district: "en-kreis") { $0.recipient = "hattingen" }

        // A problem brought from outside the case work that concerns no single town: the district holds it, its coordinators only.
        for (coordinator, district) in [("coordinator", "en-kreis"), ("mxCoordinator", "mx-kreis")] {
            let recorded = try await post(
                client,
                coordinator,
                "/api/v1/problems/from-outside",
                #"{"title":"Termine der ABH","category":"jurisdiction_interplay","description":"Monate Wartezeit.","source_kind":"migrant_organisation","source_name":"Verein Brücke e. V."}"#
            )
            add(.problem, ["problem": try id(recorded)], owner: district, district: district)
        }

        // Each district's committees: a district project group with a member from a town, a task and a meeting; the steering group.
        for (coordinator, member) in [("coordinator", "wittenCM"), ("mxCoordinator", "mxCM")] {
            let district = self[coordinator].tenant
            let group = try await post(
                client,
                coordinator,
                "/api/v1/project-groups",
                #"{"level":"district","name":"PG Sprachkurse","topic":"Kinderbetreuung"}"#
            )
            let groupID = try id(group)
            let added = try await post(client, coordinator, "/api/v1/project-groups/\(groupID)/members", #"{"email":"\#(self[member].email)"}"#)
            let memberID = try #require((added.object["members"] as? [[String: Any]])?.first?["id"] as? String)
            let task = try await post(
                client,
                coordinator,
                "/api/v1/project-groups/\(groupID)/tasks",
                #"{"text":"Kurse sammeln","owner":"KS","due_on":"2027-01-15"}"#
            )
            let taskID = try #require((task.object["tasks"] as? [[String: Any]])?.first?["id"] as? String)
            let meeting = try await post(
                client,
                coordinator,
                "/api/v1/project-groups/\(groupID)/meetings",
                #"{"scheduled_at":"2027-01-20T09:00:00Z"}"#
            )
            let meetingID = try #require((meeting.object["meetings"] as? [[String: Any]])?.first?["id"] as? String)
            add(.projectGroup, ["group": groupID], owner: district, district: district) { $0.grantedAccounts = [member] }
            add(.groupMember, ["group": groupID, "member": memberID], owner: district, district: district)
            add(.groupTask, ["group": groupID, "task": taskID], owner: district, district: district)
            add(.groupMeeting, ["group": groupID, "meeting": meetingID], owner: district, district: district)

            let seat = try await post(
                client,
                coordinator,
                "/api/v1/steering-group/members",
                #"{"name":"Dezernentin","body":"Stadt","body_kind":"municipality"}"#
            )
            let seatID = try #require((seat.object["members"] as? [[String: Any]])?.first?["id"] as? String)
            let planned = try await post(
                client,
                coordinator,
                "/api/v1/steering-group/meetings",
                #"{"scheduled_at":"2027-02-10T09:00:00Z","agenda_deadline":"2027-01-27"}"#
            )
            let steeringMeeting = try #require((planned.object["meetings"] as? [[String: Any]])?.first?["id"] as? String)
            let paper = try await post(
                client,
                coordinator,
                "/api/v1/steering-group/papers",
                #"{"title":"Kurse mit Betreuung","proposal":"Der Kreis finanziert Kinderbetreuung.","group_id":"\#(groupID)","meeting_id":"\#(steeringMeeting)"}"#
            )
            let paperID = try #require((paper.object["papers"] as? [[String: Any]])?.first?["id"] as? String)
            add(.steeringMember, ["member": seatID], owner: district, district: district)
            add(.steeringMeeting, ["meeting": steeringMeeting], owner: district, district: district)
            add(.paper, ["paper": paperID], owner: district, district: district)
        }

        // A stand-in in Witten, named through the page by the absent case manager: the team lead stands in next month.
        let absent = self["wittenCM"]
        let (from, to) = (Day(Date().addingTimeInterval(30 * 86_400)).iso, Day(Date().addingTimeInterval(35 * 86_400)).iso)
        let lead = try await client.api(.get, "/api/v1/me", token: self["wittenLead"].token).object["id"] as? String ?? ""
        let csrf = absent.csrf.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        let form = "_csrf=\(csrf)&stand_in_id=\(lead)&starts_on=\(from)&ends_on=\(to)"
        let named = try await client.execute(
            uri: "/vertretungen",
            method: .post,
            headers: [.cookie: absent.cookie, .contentType: "application/x-www-form-urlencoded"],
            body: ByteBuffer(string: form)
        )
        let standIn = try #require(named.headers[.location]?.split(separator: "=").last.map(String.init), "fixture: stand-in: \(named.text)")
        add(.standIn, ["standIn": standIn], owner: absent.tenant, district: absent.district) { $0.ownerAccount = absent.name }

        // An application in the district ABH's register, recorded through the page by its officer.
        let officer = self["abh"]
        let officerCSRF = officer.csrf.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        let recorded = try await client.execute(
            uri: "/abh/antraege",
            method: .post,
            headers: [.cookie: officer.cookie, .contentType: "application/x-www-form-urlencoded"],
            body: ByteBuffer(
                string: "_csrf=\(officerCSRF)&first_name=Samir&last_name=Haddad&date_of_birth=1988-03-04&kind=section_25b&received_on=\(today)"
            )
        )
        let application = try #require(
            recorded.headers[.location]?.split(separator: "/").last?.split(separator: "?").first.map(String.init),
            "fixture: application: \(recorded.text)"
        )
        add(.abhApplication, ["application": application], owner: officer.tenant, district: officer.district)

        // A pre-check Witten's case manager asked of the district's ABH, with the client's consent, through the page.
        let asker = self["wittenCM"]
        let askedCase = try #require(objects.first { $0.kind == .case && $0.owner == asker.tenant }?.ids["case"])
        let askerCSRF = asker.csrf.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        let askForm = try await client.execute(uri: "/faelle/\(askedCase)/vorpruefungen", method: .get, headers: [.cookie: asker.cookie], body: nil)
        let askText = askForm.text
        let option = try #require(askText.range(of: "\">Ausländerbehörde des Ennepe-Ruhr-Kreises<"), "fixture: the ABH on \(askText)")
        let abhID = String(askText[..<option.lowerBound].suffix(36))
        let asked = try await client.execute(
            uri: "/faelle/\(askedCase)/vorpruefungen",
            method: .post,
            headers: [.cookie: asker.cookie, .contentType: "application/x-www-form-urlencoded"],
            body: ByteBuffer(string: "_csrf=\(askerCSRF)&abh=\(abhID)&kind=section_25b&consent=1&consent_given_on=\(today)")
        )
        #expect(asked.status == .seeOther, "fixture: pre-check: \(asked.text)")
        let askedPage = try await client.execute(uri: "/faelle/\(askedCase)/vorpruefungen", method: .get, headers: [.cookie: asker.cookie], body: nil)
        let askedText = askedPage.text
        let marker = try #require(askedText.range(of: "data-precheck=\""), "fixture: pre-check on \(askedText)")
        add(.precheck, ["precheck": String(askedText[marker.upperBound...].prefix(36))], owner: asker.tenant, district: asker.district) {
            $0.grantedTenants = ["en-kreis-abh"]
        }

        // A naturalisation campaign of the district's coordinators with Witten taking part, started through the page.
        let campaignLead = self["coordinator"]
        let leadCSRF = campaignLead.csrf.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        let campaignsText = try await client.execute(uri: "/kampagnen", method: .get, headers: [.cookie: campaignLead.cookie], body: nil).text
        let wittenBox = try #require(campaignsText.range(of: "\">Stadt Witten</label>"), "fixture: Witten on \(campaignsText)")
        let wittenID = String(campaignsText[..<wittenBox.lowerBound].suffix(36))
        let started = try await client.execute(
            uri: "/kampagnen",
            method: .post,
            headers: [.cookie: campaignLead.cookie, .contentType: "application/x-www-form-urlencoded"],
            body: ByteBuffer(string: "_csrf=\(leadCSRF)&title=Einb%C3%BCrgerung&starts_on=\(today)&ends_on=\(today)&towns=\(wittenID)")
        )
        let campaign = try #require(
            started.headers[.location]?.split(separator: "/").last?.split(separator: "?").first.map(String.init),
            "fixture: campaign: \(started.text)"
        )
        add(.campaign, ["campaign": campaign], owner: campaignLead.tenant, district: campaignLead.district) { $0.grantedTenants = ["witten"] }

        // A section of the district's quality handbook: drafted by one coordinator, released by a second, drafted again.
        let handbookPost = { (account: Account, path: String, body: String) in
            let csrf = account.csrf.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            return try await client.execute(
                uri: path,
                method: .post,
                headers: [.cookie: account.cookie, .contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "_csrf=\(csrf)&\(body)")
            )
        }
        let drafted = try await handbookPost(campaignLead, "/handbuch", "title=Fallmanagement&body=Standard")
        let section = try #require(
            drafted.headers[.location]?.split(separator: "/").last?.split(separator: "?").first.map(String.init),
            "fixture: handbook section: \(drafted.text)"
        )
        let released = try await handbookPost(self["ekCoordinator"], "/handbuch/\(section)/freigabe", "version=1")
        #expect(released.status == .seeOther, "fixture: handbook release: \(released.text)")
        let redrafted = try await handbookPost(campaignLead, "/handbuch/\(section)", "version=2&title=Fallmanagement&body=Neu")
        #expect(redrafted.status == .seeOther, "fixture: handbook draft: \(redrafted.text)")
        add(.handbookSection, ["section": section], owner: campaignLead.tenant, district: campaignLead.district)

        // People's own objects: one account per tenant, everyone's notifications and tokens.
        var seenTenants = Set<String>()
        for account in accounts {
            let me = try await client.api(.get, "/api/v1/me", token: account.token).object
            let userID = try #require(me["id"] as? String, "GET /api/v1/me: \(me)")
            if seenTenants.insert(account.tenant).inserted {
                add(.user, ["user": userID], owner: account.tenant, district: account.district) { $0.ownerAccount = account.name }
            }
            if let notification = try await client.api(.get, "/api/v1/notifications", token: account.token).array.first?["id"] as? String {
                add(.notification, ["notification": notification], owner: account.tenant, district: account.district) {
                    $0.ownerAccount = account.name
                }
            }
            let token = try #require(try await client.api(.get, "/api/v1/tokens", token: account.token).array.first?["id"] as? String)
            add(.token, ["token": token], owner: account.tenant, district: account.district) { $0.ownerAccount = account.name }
        }
        for (slug, tenant) in tenants where seenTenants.contains(slug) || slug.hasPrefix("mx-") {
            add(.tenant, ["slug": slug], owner: slug, district: tenant.kind.rawValue == "district" ? slug : tenant.district ?? "")
        }
        // A draft experience report of a past half-year in each district (issue 21).
        let period = ExperienceReports.recent(.today)[1].description
        for (district, coordinator) in [("en-kreis", "coordinator"), ("mx-kreis", "mxCoordinator")] {
            let draft = try await client.api(
                .put,
                "/api/v1/districts/\(district)/experience-reports/\(period)",
                token: self[coordinator].token,
                json: #"{"sections":{"outlook":"Ausblick"}}"#,
                headers: [.ifMatch: "\"0\""]
            )
            #expect(draft.status == .ok, "fixture: experience report: \(draft.text)")
            add(.district, ["slug": district, "period": period], owner: district, district: district)
        }
        // Two services of the district's directory (issue 20), each its carrier's.
        for service in try await client.api(.get, "/api/v1/services", token: self["coordinator"].token).array
        where ["mbe-awo", "mbe-caritas"].contains(service["key"] as? String ?? "") {
            let id = try #require(service["id"] as? String)
            add(.service, ["service": id], owner: try #require(service["carrier"] as? String), district: "en-kreis")
        }
        let jobs = try await client.api(.get, "/api/v1/jobs", token: self["platform"].token)
        let job = (jobs.array.first ?? ((jobs.object["jobs"] as? [[String: Any]])?.first)).flatMap { $0["id"].map { "\($0)" } } ?? "1"
        add(.job, ["job": job], owner: "betrieb", district: "")
    }
}
