import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import Kreiswerk

/// The role × route × tenant matrix of issue 15: every route with a path parameter, requested by every account of every role
/// (two tenants of each kind) with every tenant's object of the right kind. Only the answers the design intends may succeed.
@Suite struct AccessMatrixTests {
    typealias Account = AccessMatrixFixture.Account
    typealias Object = AccessMatrixFixture.Object
    typealias Kind = AccessMatrixFixture.Kind

    // MARK: - Which object each route's parameters name

    /// Which kind of object a route with path parameters acts on, and which of the object's ids fills each parameter.
    struct Target {
        var kinds: [Kind]
        var parameters: [String: String]
    }

    /// Open routes whose parameter names no tenant's object.
    static let notObjects: Set<String> = ["GET /einladung/{token}", "POST /einladung/{token}", "GET /static/{file}"]

    /// Specific shapes first (a parameter after another), then the collection the `{id}` or `{slug}` follows.
    static let shapes: [(contains: [String], Target)] = [
        (["/goals/{goal}", "/ziele/{goal}"], Target(kinds: [.goal], parameters: ["id": "case", "goal": "goal"])),
        (["/consents/{consent}", "/einwilligungen/{consent}"], Target(kinds: [.consent], parameters: ["id": "client", "consent": "consent"])),
        (
            ["/conferences/{id}/action-items/{item}", "/konferenzen/{id}/aufgaben/{item}"],
            Target(kinds: [.actionItem], parameters: ["id": "conference", "item": "item"])
        ),
        (
            ["/project-groups/{id}/tasks/{task}", "/gruppen/{id}/aufgaben/{task}"],
            Target(kinds: [.groupTask], parameters: ["id": "group", "task": "task"])
        ),
        (
            ["/project-groups/{id}/members/{member}", "/gruppen/{id}/mitglieder/{member}"],
            Target(kinds: [.groupMember], parameters: ["id": "group", "member": "member"])
        ),
        (["/gruppen/{id}/sitzungen/{meeting}"], Target(kinds: [.groupMeeting], parameters: ["id": "group", "meeting": "meeting"])),
        (["/lenkungsgruppe/sitzungen/{meeting}"], Target(kinds: [.steeringMeeting], parameters: ["meeting": "meeting"])),
        (["/lenkungsgruppe/mitglieder/{member}"], Target(kinds: [.steeringMember], parameters: ["member": "member"])),
        (["/steering-group/members/{id}"], Target(kinds: [.steeringMember], parameters: ["id": "member"])),
        (["/vorlagen/{paper}"], Target(kinds: [.paper], parameters: ["paper": "paper"])),
        (["/papers/{id}"], Target(kinds: [.paper], parameters: ["id": "paper"])),
        (["/steering-group/meetings/{id}"], Target(kinds: [.steeringMeeting], parameters: ["id": "meeting"])),
        (["/meetings/{id}"], Target(kinds: [.groupMeeting, .steeringMeeting], parameters: ["id": "meeting"])),
        (["/tenants/{slug}", "/mandanten/{slug}"], Target(kinds: [.tenant], parameters: ["slug": "slug"])),
        (["/experience-reports/{period}"], Target(kinds: [.district], parameters: ["slug": "slug", "period": "period"])),
        (["/erfahrungsberichte/{period}"], Target(kinds: [.district], parameters: ["period": "period"])),
        (["/districts/{slug}"], Target(kinds: [.district], parameters: ["slug": "slug"])),
    ]
    static let collections: [String: (Kind, String)] = [
        "clients": (.client, "client"), "klienten": (.client, "client"), "cases": (.case, "case"), "faelle": (.case, "case"),
        "referrals": (.referral, "referral"), "verweisungen": (.referral, "referral"), "conferences": (.conference, "conference"),
        "konferenzen": (.conference, "conference"), "reports": (.report, "report"), "meldungen": (.report, "report"),
        "problems": (.problem, "problem"), "probleme": (.problem, "problem"), "polls": (.poll, "poll"), "umfragen": (.poll, "poll"),
        "project-groups": (.projectGroup, "group"), "gruppen": (.projectGroup, "group"), "users": (.user, "user"), "benutzer": (.user, "user"),
        "tokens": (.token, "token"), "notifications": (.notification, "notification"), "benachrichtigungen": (.notification, "notification"),
        "jobs": (.job, "job"), "vertretungen": (.standIn, "standIn"),
        "stand-ins": (.standIn, "standIn"), "antraege": (.abhApplication, "application"),
        "vorpruefungen": (.precheck, "precheck"), "kampagnen": (.campaign, "campaign"), "kampagne": (.campaign, "campaign"),
        "services": (.service, "service"), "angebote": (.service, "service"), "handbuch": (.handbookSection, "section"),
        "applications": (.abhApplication, "application"), "prechecks": (.precheck, "precheck"), "campaigns": (.campaign, "campaign"),
        "town-campaigns": (.campaign, "campaign"),
    ]

    static func target(_ path: String) -> Target? {
        if let shape = shapes.first(where: { $0.contains.contains { path.contains($0) } }) { return shape.1 }
        let segments = path.split(separator: "/").map(String.init)
        guard let at = segments.firstIndex(of: "{id}"), at > 0, let (kind, name) = collections[segments[at - 1]],
            segments.filter({ $0.hasPrefix("{") }).count == 1
        else { return nil }
        return Target(kinds: [kind], parameters: ["id": name])
    }

    // MARK: - The 2xx the design intends

    /// One intended success: why, and to whom.
    struct Rule: Sendable {
        var reason: String
        var applies: @Sendable (_ account: Account, _ method: String, _ route: String, _ object: Object) -> Bool
        init(_ reason: String, _ applies: @escaping @Sendable (Account, String, String, Object) -> Bool) {
            self.reason = reason
            self.applies = applies
        }
    }

    /// DESIGN.md "Security model" and "Who uses it", README "Using it", issue 15 (findings 6, 11, 12).
    static let intended: [Rule] = [
        Rule("case workers read and work on their own tenant's clients, consents, cases and goals") { a, _, _, o in
            [.client, .consent, .case, .goal].contains(o.kind) && a.tenant == o.owner && a.worksCases
        },
        Rule("the sending tenant's case workers read their referral") { a, m, _, o in
            o.kind == .referral && m == "GET" && a.tenant == o.owner && a.worksCases
        },
        Rule("the receiving carrier's case workers and counsellors read and answer a referral granted to it") { a, _, _, o in
            o.kind == .referral && o.grantedTenants.contains(a.tenant) && a.answersReferrals
        },
        Rule("the organiser's case workers run their conference and its action items") { a, _, _, o in
            [.conference, .actionItem].contains(o.kind) && a.tenant == o.owner && a.worksCases
        },
        Rule("the organising tenant's attendees read its conference (not in the district tenant: by role; not its counsellors)") { a, m, _, o in
            o.kind == .conference && m == "GET" && a.tenant == o.owner && a.attendsConferences && a.kind != "district" && !a.counselsOnly
                && (o.ledBy == nil || o.requester == a.name || a.has(.teamLead))
        },
        Rule("the district's coordinators lead a district conference: they plan, invite, write minutes and action items (issue 19)") { a, _, _, o in
            [.conference, .actionItem].contains(o.kind) && o.ledBy == a.tenant && a.coordinates
        },
        Rule("a coordinator of the district asked to moderate takes the moderation on (issue 19)") { a, _, r, o in
            o.kind == .conference && r.hasSuffix("/moderation") && o.moderator == a.tenant && a.coordinates
        },
        Rule("an invited tenant reads the conference: summary, agenda, minutes, action items") { a, m, _, o in
            o.kind == .conference && m == "GET" && o.grantedTenants.contains(a.tenant) && a.attendsConferences && a.kind != "district"
        },
        Rule("a colleague invited by name reads the conference") { a, m, _, o in
            o.kind == .conference && m == "GET" && o.grantedAccounts.contains(a.name) && a.attendsConferences
        },
        Rule("the coordinators asked to moderate (or leading a district conference) read it — the coordinators only, by person") { a, m, _, o in
            o.kind == .conference && m == "GET" && o.moderator == a.tenant && a.coordinates
        },
        Rule("the town a level-2 report went to decides it") { a, _, _, o in
            o.kind == .report && o.recipient == a.tenant && a.worksCases
        },
        Rule("a town's case workers read the structural problems raised in their tenant") { a, m, r, o in
            o.kind == .problem && m == "GET" && !r.hasSuffix("/anliegen") && a.tenant == o.owner && a.has(.caseManager, .teamLead)
        },
        Rule("the district's coordinators read and steer its towns' problems") { a, _, _, o in
            o.kind == .problem && a.coordinates && a.tenant == o.ownerDistrict
        },
        Rule("the district's assistants read its towns' problems") { a, m, r, o in
            o.kind == .problem && m == "GET" && !r.hasSuffix("/anliegen") && a.has(.districtAssistant) && a.tenant == o.ownerDistrict
        },
        Rule("the case workers of every town of the district asked in the poll (towns by default, not the raiser) answer it") { a, _, _, o in
            o.kind == .poll && a.district == o.ownerDistrict && a.kind == "municipality" && a.tenant != "witten" && a.has(.caseManager, .teamLead)
        },
        Rule("the district's coordinators and assistants run its committees") { a, m, r, o in
            [.projectGroup, .groupMember, .groupTask, .groupMeeting, .steeringMember, .steeringMeeting, .paper].contains(o.kind)
                && a.runsCommittees && a.tenant == o.owner
                // Advisors are invited to a steering meeting by the coordinators alone (issue 19).
                && (m == "GET" || a.coordinates || !(r.contains("/advisors") || r.contains("/beratende")))
        },
        Rule("a project group's members with an account read their group") { a, m, _, o in
            o.kind == .projectGroup && m == "GET" && o.grantedAccounts.contains(a.name)
        },
        Rule("platform administrators see and manage every account") { a, _, _, o in o.kind == .user && a.has(.platformAdmin) },
        Rule("a tenant's administrators see and manage its accounts") { a, _, _, o in o.kind == .user && a.has(.tenantAdmin) && a.tenant == o.owner },
        Rule("the district's coordinators see its tenants' accounts, read-only") { a, m, _, o in
            o.kind == .user && m == "GET" && a.coordinates && a.tenant == o.ownerDistrict
        },
        Rule("platform administrators, and a tenant's own administrators, set its second-factor requirement") { a, _, r, o in
            o.kind == .tenant && r.contains("/security") && (a.has(.platformAdmin) || (a.has(.tenantAdmin) && a.tenant == o.owner))
        },
        Rule("platform administrators see each tenant's page, the district's coordinators those of their district (issue 20)") { a, _, r, o in
            o.kind == .tenant && r.contains("/mandanten/") && (a.has(.platformAdmin) || (a.coordinates && a.tenant == o.ownerDistrict))
        },
        Rule("everyone of a district lists the change requests it may see: coordinators all, towns their own (issue 19)") {
            a,
            m,
            r,
            o in
            o.kind == .district && m == "GET" && r.hasSuffix("/documentation-standard/requests") && (a.has(.platformAdmin) || a.district == o.owner)
        },
        Rule("everyone of a district reads its milestone plan, its coordinators keep it; not the platform (issue 21)") { a, m, r, o in
            o.kind == .district && r.contains("/milestones") && a.district == o.owner && (m == "GET" || (a.coordinates && a.tenant == o.owner))
        },
        Rule("the district's coordinators write and release its experience reports; its assistants read drafts too (issue 21)") { a, m, r, o in
            o.kind == .district && Self.experienceReport(r) && a.kind == "district" && (r.hasPrefix("/erfahrungsberichte/") || a.tenant == o.owner)
                && (a.coordinates || (m == "GET" && a.has(.districtAssistant))) && !r.hasSuffix("/druck") && !r.hasSuffix("/download")
        },
        Rule("the district's steering group lists its released experience reports (issue 21)") { a, m, r, o in
            o.kind == .district && m == "GET" && r.hasSuffix("/experience-reports") && a.has(.steeringMember) && a.district == o.owner
        },
        Rule("everyone of a district (and the platform) reads its minimum documentation standard") { a, m, r, o in
            o.kind == .district && m == "GET" && !r.contains("/milestones") && !Self.experienceReport(r)
                && (a.has(.platformAdmin) || a.district == o.owner)
        },
        Rule("the district's coordinators (and the platform) set its documentation standard") { a, _, r, o in
            o.kind == .district && !r.contains("/milestones") && !Self.experienceReport(r)
                && (a.has(.platformAdmin) || (a.coordinates && a.tenant == o.owner))
        },
        Rule("everyone reads and marks their own notifications") { a, _, _, o in o.kind == .notification && o.ownerAccount == a.name },
        Rule("everyone revokes their own personal access tokens") { a, _, _, o in o.kind == .token && o.ownerAccount == a.name },
        Rule("platform administrators operate the job queue") { a, _, _, o in o.kind == .job && a.has(.platformAdmin) },
        Rule("the ABH's officers keep its register of applications, nobody else sees them (issue 21)") { a, _, _, o in
            o.kind == .abhApplication && a.tenant == o.owner && a.has(.abhOfficer)
        },
        Rule("the ABH a pre-check was asked of reads and answers it while the client's consent stands, its officers only (issue 21)") { a, _, _, o in
            o.kind == .precheck && o.grantedTenants.contains(a.tenant) && a.has(.abhOfficer)
        },
        Rule("everyone of a district finds its services (issue 20)") { a, m, r, o in
            o.kind == .service && m == "GET" && !r.hasSuffix("/bearbeiten") && a.district == o.ownerDistrict
        },
        Rule("a carrier's administrators and counsellors keep its services, the district's coordinators every one (issue 20)") { a, _, _, o in
            o.kind == .service && ((a.tenant == o.owner && a.has(.tenantAdmin, .counsellor)) || (a.coordinates && a.tenant == o.ownerDistrict))
        },
        Rule("the district's coordinators run its naturalisation campaign and read its counts per town (issue 21)") { a, _, r, o in
            o.kind == .campaign && (r.hasPrefix("/kampagnen/") || r.hasPrefix("/api/v1/campaigns/")) && a.coordinates && a.tenant == o.owner
        },
        Rule("a participating town's case workers read the campaign and record clients informed (issue 21)") { a, _, r, o in
            o.kind == .campaign && (r.hasPrefix("/kampagne/") || r.hasPrefix("/api/v1/town-campaigns/")) && o.grantedTenants.contains(a.tenant)
                && a.worksCases
        },
        Rule("everyone of the district reads the released sections of its quality handbook (issue 21)") { a, m, _, o in
            o.kind == .handbookSection && m == "GET" && a.district == o.ownerDistrict
        },
        Rule("the district's coordinators draft, review and release its quality handbook (issue 21)") { a, _, _, o in
            o.kind == .handbookSection && a.coordinates && a.tenant == o.owner
        },
        Rule("the district's figure readers read its tenants' posts, its coordinators decide them (issue 19)") { a, m, r, o in
            o.kind == .tenant && r.hasPrefix("/api/v1/staffing/") && a.district == o.ownerDistrict
                && (a.coordinates || (m == "GET" && a.has(.districtAssistant, .steeringMember)))
        },
        Rule("the absent colleague and the tenant's team leads end a stand-in (issue 17)") { a, _, _, o in
            o.kind == .standIn && a.tenant == o.owner && (o.ownerAccount == a.name || a.has(.teamLead))
        },
    ]

    /// The experience reports' routes (issue 21): a page's `{period}` is of the reader's own district (the fixture drafts
    /// one per district), the print page and the download exist for released reports only.
    static func experienceReport(_ route: String) -> Bool { route.contains("/experience-reports") || route.hasPrefix("/erfahrungsberichte") }

    static func reason(_ account: Account, _ method: String, _ route: String, _ object: Object) -> String? {
        intended.first { $0.applies(account, method, route, object) }?.reason
    }

    // MARK: - Requests

    struct Probe: Sendable {
        var account: Account
        var method: HTTPRequest.Method
        var route: String
        var path: String
        var object: Object
        var intended: String?

        var isPage: Bool { !AuthenticationMiddleware.isMachinePath(path) }
        var line: String {
            "\(account.name) (\(account.tenant), \(account.roles.map(\.rawValue).sorted().joined(separator: ","))) \(method) \(route) on \(object.label)"
        }
    }

    struct Outcome: Sendable {
        var probe: Probe
        var status: Int
        var reached: Bool
    }

    /// Whether the request got through: 2xx, or a redirect that is not to the sign-in. A 409 or 422 is not: the form
    /// was refused and nothing written (writes are sent with empty bodies, so for them the matrix proves the guards and
    /// the object lookups that come before validation; the capability tests prove the writes themselves).
    static func reached(_ probe: Probe, _ response: TestResponse) -> Bool {
        let code = Int(response.status.code)
        switch code {
        case 200..<300: return true
        case 300..<400:
            let location = response.headers[.location] ?? ""
            return !(location.hasPrefix("/anmelden") || location.hasPrefix("/konto?zweiter-faktor"))
        default: return false
        }
    }

    static func send(_ probe: Probe, _ client: some TestClientProtocol) async throws -> Outcome {
        var headers: HTTPFields = [:]
        var body: ByteBuffer?
        if probe.isPage {
            headers[.cookie] = probe.account.cookie
            if probe.method == .post {
                headers[.contentType] = "application/x-www-form-urlencoded"
                body = ByteBuffer(string: "_csrf=\(probe.account.csrf.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")")
            }
        } else {
            headers[.authorization] = "Bearer \(probe.account.token)"
            if [.post, .put, .patch].contains(probe.method) {
                headers[.contentType] = "application/json"
                body = ByteBuffer(string: "{}")
            }
        }
        let response = try await client.execute(uri: probe.path, method: probe.method, headers: headers, body: body)
        return Outcome(probe: probe, status: Int(response.status.code), reached: reached(probe, response))
    }

    /// Runs the probes, at most `width` at a time.
    static func run(_ probes: [Probe], width: Int = 8, _ client: some TestClientProtocol) async throws -> [Outcome] {
        try await withThrowingTaskGroup(of: Outcome.self) { group in
            var outcomes: [Outcome] = []
            var next = probes.makeIterator()
            for _ in 0..<width { if let probe = next.next() { group.addTask { try await send(probe, client) } } }
            while let outcome = try await group.next() {
                outcomes.append(outcome)
                if let probe = next.next() { group.addTask { try await send(probe, client) } }
            }
            return outcomes
        }
    }

    static func path(_ route: String, _ target: Target, _ object: Object) -> String? {
        var path = route
        for (parameter, name) in target.parameters {
            guard let value = object.ids[name] else { return nil }
            path = path.replacingOccurrences(of: "{\(parameter)}", with: value)
        }
        return path.contains("{") ? nil : path
    }

    // MARK: - The test

    @Test func onlyTheAccessTheDesignIntendsSucceeds() async throws {
        try await TestApp.with { db, people, client in
            let started = ContinuousClock.now
            let fixture = try await AccessMatrixFixture.make(db, people, client)
            let routes = try await buildRoutes(TestApp.configuration(db), database: db.app, logger: TestDatabase.logger)
            let withParameters = routes.rules.keys.filter { $0.contains("{") && !Self.notObjects.contains($0) }.sorted()
            var unmapped: [String] = []
            var reads: [Probe] = []
            var writes: [Probe] = []
            var revocations: [Probe] = []
            for key in withParameters {
                let parts = key.split(separator: " ", maxSplits: 1).map(String.init)
                let (method, route) = (HTTPRequest.Method(parts[0])!, parts[1])
                guard let target = Self.target(route) else {
                    unmapped.append(key)
                    continue
                }
                for object in fixture.objects where target.kinds.contains(object.kind) {
                    guard let path = Self.path(route, target, object) else { continue }
                    for account in fixture.accounts {
                        let why = Self.reason(account, parts[0], route, object)
                        let probe = Probe(account: account, method: method, route: route, path: path, object: object, intended: why)
                        if method == .get {
                            reads.append(probe)
                        } else if why == nil {
                            // An intended write is not made: it would change the fixture. Revoking tokens comes last.
                            if object.kind == .token { revocations.append(probe) } else { writes.append(probe) }
                        }
                    }
                }
            }
            #expect(unmapped == [], "routes with path parameters that the matrix does not know: add them to AccessMatrixTests.shapes or collections")

            var outcomes = try await Self.run(reads, client)
            outcomes += try await Self.run(writes, client)
            outcomes += try await Self.run(revocations, width: 1, client)

            let unexpected = outcomes.filter { $0.reached && $0.probe.intended == nil }.map { "\($0.status) \($0.probe.line)" }.sorted()
            let refused = outcomes.filter { !$0.reached && $0.probe.intended != nil }
                .map { "\($0.status) \($0.probe.line) — intended: \($0.probe.intended!)" }.sorted()
            let kinds = Set(fixture.objects.map(\.kind))
            let seconds = (ContinuousClock.now - started).components.seconds
            print(
                """
                access matrix: \(fixture.accounts.count) accounts × \(withParameters.count - unmapped.count) routes with path parameters \
                × \(fixture.objects.count) objects of \(kinds.count) kinds → \(outcomes.count) requests \
                (\(reads.count) reads, \(writes.count) writes, \(revocations.count) token revocations) in \(seconds) s; \
                \(outcomes.filter { $0.reached && $0.probe.intended != nil }.count) intended successes, \(unexpected.count) unexpected, \(refused.count) intended but refused
                """
            )
            if !fixture.refusedAccounts.isEmpty { print("access matrix: accounts the database refused: \(fixture.refusedAccounts)") }

            // Not vacuous: many requests, every kind of object, and the owners (and the grantees) do get through.
            #expect(outcomes.count > 5000)
            #expect(kinds == Set(Kind.allCases), "kinds without an object: \(Set(Kind.allCases).subtracting(kinds))")
            #expect(refused.isEmpty, "intended successes that were refused (\(refused.count)):\n\(refused.joined(separator: "\n"))")
            #expect(outcomes.filter { $0.status >= 500 }.isEmpty, "500s: \(outcomes.filter { $0.status >= 500 }.map(\.probe.line))")
            #expect(unexpected.isEmpty, "successes the design does not intend (\(unexpected.count)):\n\(unexpected.joined(separator: "\n"))")
        }
    }
}
