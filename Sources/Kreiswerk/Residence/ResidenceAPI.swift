import Foundation
import Hummingbird

/// Baustein III in the JSON API (issue 21): the ABH's register (`/api/v1/abh/applications…`, the backlog), the pre-checks
/// between case managers and the ABH (`/api/v1/abh/prechecks…`, `/api/v1/cases/{id}/prechecks`) and the naturalisation
/// campaign (`/api/v1/campaigns…`). The same services as the pages: personal data stay in the ABH's tenant (RLS; another
/// tenant's object is a 404), the district sees the campaign's counts only, suppressed. Changes name the version they
/// rest on (`If-Match`; a stale one is a 412), bad input is a 422 naming the field.
struct ResidenceAPI {
    let applications: ResidenceApplications
    let prechecks: AbhPrechecks
    let campaigns: Campaigns

    // MARK: - What the API sends

    struct ApplicationJSON: Encodable, Sendable {
        struct Change: Encodable, Sendable {
            var state: String
            var changedOn: String
            var note: String?
            var changedBy: String
        }
        var id: UUID
        var kind: String
        var receivedOn: String
        var state: String
        var decidedOn: String?
        var officerId: UUID?
        var officerName: String?
        var version: Int
        var applicantName: String
        var applicantDateOfBirth: String
        var fileNumber: String?
        var precheckId: UUID?
        var history: [Change]

        init(_ application: ResidenceApplication) {
            id = application.id
            kind = application.kind.rawValue
            receivedOn = application.receivedOn.iso
            state = application.state.rawValue
            decidedOn = application.decidedOn?.iso
            officerId = application.officerID
            officerName = application.officerName
            version = application.version
            applicantName = application.applicantName
            applicantDateOfBirth = application.applicantBirth.iso
            fileNumber = application.fileNumber
            precheckId = application.precheckID
            history = application.history.map { .init(state: $0.state.rawValue, changedOn: $0.changedOn.iso, note: $0.note, changedBy: $0.changedBy) }
        }
    }

    struct BacklogJSON: Encodable, Sendable {
        struct Row: Encodable, Sendable {
            var kind: String
            var underThreeMonths: Int
            var threeToSixMonths: Int
            var sixToTwelveMonths: Int
            var overTwelveMonths: Int
            var open: Int
        }
        struct Month: Encodable, Sendable {
            var month: String
            var received: Int
            var granted: Int
            var refused: Int
            var withdrawn: Int
        }
        var asOf: String
        var open: Int
        var rows: [Row]
        var months: [Month]

        init(_ backlog: ApplicationBacklog) {
            asOf = backlog.asOf.iso
            open = backlog.total
            rows = backlog.rows.map {
                Row(
                    kind: $0.kind.rawValue,
                    underThreeMonths: $0.open[0],
                    threeToSixMonths: $0.open[1],
                    sixToTwelveMonths: $0.open[2],
                    overTwelveMonths: $0.open[3],
                    open: $0.total
                )
            }
            months = backlog.months.map {
                .init(month: $0.month, received: $0.received, granted: $0.granted, refused: $0.refused, withdrawn: $0.withdrawn)
            }
        }
    }

    struct PrecheckJSON: Encodable, Sendable {
        struct Answer: Encodable, Sendable {
            var number: Int
            var verdict: String
            var note: String?
            var answererName: String
            var answeredAt: Date
        }
        var id: UUID
        var caseId: UUID?
        var askedBy: String
        var abh: String
        var kind: String
        var firstName: String
        var lastName: String
        var dateOfBirth: String
        var residence: String?
        var yearsOfResidence: Int?
        var languageLevel: String?
        var livelihood: String?
        var schoolOrWork: String?
        var missing: String?
        var question: String?
        var senderName: String
        var sentAt: Date
        var consentStands: Bool
        var version: Int
        var answers: [Answer]

        init(_ precheck: Precheck) {
            id = precheck.id
            caseId = precheck.caseID
            askedBy = precheck.askerTenantName
            abh = precheck.abhName
            kind = precheck.kind.rawValue
            firstName = precheck.firstName
            lastName = precheck.lastName
            dateOfBirth = precheck.dateOfBirth.iso
            residence = precheck.residence
            yearsOfResidence = precheck.yearsOfResidence
            languageLevel = precheck.languageLevel
            livelihood = precheck.livelihood?.rawValue
            schoolOrWork = precheck.schoolOrWork
            missing = precheck.missing
            question = precheck.question
            senderName = precheck.senderName
            sentAt = precheck.sentAt
            consentStands = precheck.grantActive
            version = precheck.version
            answers = precheck.answers.map {
                .init(number: $0.number, verdict: $0.verdict.rawValue, note: $0.note, answererName: $0.answererName, answeredAt: $0.answeredAt)
            }
        }
    }

    struct CampaignJSON: Encodable, Sendable {
        struct Event: Encodable, Sendable {
            var heldOn: String
            var title: String
            var place: String?
            var town: String?
        }
        struct Letter: Encodable, Sendable {
            var language: String
            var body: String
        }
        struct TownCounts: Encodable, Sendable {
            var town: String
            var informed: FigureCount
            var prechecks: FigureCount
            var applications: FigureCount
        }
        var id: UUID
        var title: String
        var startsOn: String
        var endsOn: String
        var description: String?
        var towns: [String]
        var services: [String]
        var events: [Event]
        var letters: [Letter]
        /// The district's view: counts per town, suppressed; absent in a list.
        var counts: [TownCounts]?
        /// The version a change names in If-Match (the coordinators' view of one campaign).
        var version: Int?

        init(_ campaign: NaturalisationCampaign, counts: [NaturalisationCampaign.TownCounts]? = nil, version: Int? = nil) {
            self.version = version
            id = campaign.id
            title = campaign.title
            startsOn = campaign.startsOn.iso
            endsOn = campaign.endsOn.iso
            description = campaign.description
            towns = campaign.towns
            services = campaign.services
            events = campaign.events.map { .init(heldOn: $0.heldOn.iso, title: $0.title, place: $0.place, town: $0.town) }
            letters = campaign.letters.map { .init(language: $0.language, body: $0.body) }
            self.counts = counts?.map { .init(town: $0.town, informed: $0.informed, prechecks: $0.prechecks, applications: $0.applications) }
        }
    }

    /// A participating town's view of a campaign: its own clients informed (its own count, exact).
    struct TownCampaignJSON: Encodable, Sendable {
        var campaign: CampaignJSON
        var informed: Int
    }

    struct Listed<Item: Encodable & Sendable>: Encodable, Sendable { var items: [Item] }

    // MARK: - What the API takes

    struct NewApplicationBody: Decodable {
        var firstName: String?
        var lastName: String?
        var dateOfBirth: String?
        var fileNumber: String?
        var kind: String?
        var receivedOn: String?
        var officerId: UUID?
        var precheckId: UUID?
    }

    struct StateBody: Decodable {
        var state: String?
        var changedOn: String?
        var note: String?
        var officerId: UUID?
    }

    struct NewPrecheckBody: Decodable {
        var abh: UUID?
        var kind: String?
        var yearsOfResidence: Int?
        var languageLevel: String?
        var livelihood: String?
        var schoolOrWork: String?
        var missing: String?
        var question: String?
        var consentGivenOn: String?
    }

    struct AnswerBody: Decodable {
        var verdict: String?
        var note: String?
    }

    struct InformedBody: Decodable {
        var caseNumber: String?
        var informedOn: String?
        var how: String?
    }

    struct NewCampaignBody: Decodable {
        var title: String?
        var startsOn: String?
        var endsOn: String?
        var description: String?
        var towns: [UUID]?
        var services: [UUID]?
    }

    /// A date field: nil when absent; a 422 naming the field when it is no date.
    static func day(_ text: String?, field: String, into errors: inout [String: String]) -> Day? {
        guard let text else { return nil }
        guard let day = Day(text) else {
            errors[field] = "„\(text)“ ist kein Datum: bitte als JJJJ-MM-TT angeben, z. B. 2026-03-01."
            return nil
        }
        return day
    }

    /// A choice field: nil when absent; a 422 naming the field and the possible values when it names none.
    static func choice<Value: RawRepresentable & CaseIterable>(
        _ text: String?,
        _ type: Value.Type,
        field: String,
        into errors: inout [String: String]
    ) -> Value? where Value.RawValue == String {
        guard let text else { return nil }
        guard let value = Value(rawValue: text) else {
            errors[field] = "„\(text)“ ist nicht möglich; möglich sind \(Value.allCases.map(\.rawValue).joined(separator: ", "))."
            return nil
        }
        return value
    }

    /// A campaign's plan from the body; a date that is none is a 422 naming its field.
    static func plan(_ body: NewCampaignBody) throws -> NewCampaign {
        var errors: [String: String] = [:]
        let starts = day(body.startsOn, field: "starts_on", into: &errors)
        let ends = day(body.endsOn, field: "ends_on", into: &errors)
        if !errors.isEmpty { throw InvalidInput(errors: errors) }
        return NewCampaign(
            title: body.title ?? "",
            startsOn: starts,
            endsOn: ends,
            description: body.description,
            towns: body.towns ?? [],
            services: body.services ?? []
        )
    }

    /// A stale version in the API is a 412 (the pages answer a 409 that keeps the form's input).
    static func precondition<Value>(_ change: () async throws -> Value) async throws -> Value {
        do { return try await change() } catch DomainError.conflict(let message) { throw DomainError.stale(message) }
    }

    static func location(_ path: String, _ id: UUID) -> String { "\(path)/\(id.uuidString.lowercased())" }

    // MARK: - Routes

    func register(on routes: GuardedRouter) {
        registerApplications(on: routes)
        registerPrechecks(on: routes)
        registerCampaigns(on: routes)
    }

    func registerApplications(on routes: GuardedRouter) {
        routes.get("/api/v1/abh/applications", .keepApplicationRegister) { request, context in
            let query = request.uri.queryParameters
            var errors: [String: String] = [:]
            var filter = ApplicationFilter()
            filter.kind = Self.choice(query["kind"].map(String.init), ResidenceApplication.Kind.self, field: "kind", into: &errors)
            filter.state = Self.choice(query["state"].map(String.init), ResidenceApplication.State.self, field: "state", into: &errors)
            if let open = query["open"].map(String.init) {
                if open != "true" && open != "false" { errors["open"] = "Bitte true oder false angeben." }
                filter.openOnly = open == "true"
            }
            if !errors.isEmpty { throw InvalidInput(errors: errors) }
            let found = try await applications.list(filter, by: context.identity, clientAddress: context.clientAddress)
            return JSONResponse(Listed(items: found.applications.map(ApplicationJSON.init)), snakeCase: true)
        }
        routes.on(.post, "/api/v1/abh/applications", .keepApplicationRegister) { request, context in
            let body = try await request.json(NewApplicationBody.self, context: context, snakeCase: true)
            var errors: [String: String] = [:]
            let birth = Self.day(body.dateOfBirth, field: "date_of_birth", into: &errors)
            let received = Self.day(body.receivedOn, field: "received_on", into: &errors)
            let kind = Self.choice(body.kind, ResidenceApplication.Kind.self, field: "kind", into: &errors)
            if !errors.isEmpty { throw InvalidInput(errors: errors) }
            var new = NewResidenceApplication(
                firstName: body.firstName ?? "",
                lastName: body.lastName ?? "",
                dateOfBirth: birth,
                fileNumber: body.fileNumber,
                kind: kind,
                receivedOn: received,
                officerID: body.officerId
            )
            new.precheckID = body.precheckId
            let recorded = try await applications.record(new, by: context.identity, clientAddress: context.clientAddress)
            return JSONResponse(
                ApplicationJSON(recorded),
                status: .created,
                headers: [.location: Self.location("/api/v1/abh/applications", recorded.id), .eTag: "\"\(recorded.version)\""],
                snakeCase: true
            )
        }
        routes.get("/api/v1/abh/applications/{id}", .keepApplicationRegister) { _, context in
            let found = try await applications.find(try context.id(), by: context.identity, clientAddress: context.clientAddress).application
            return JSONResponse(ApplicationJSON(found), headers: [.eTag: "\"\(found.version)\""], snakeCase: true)
        }
        routes.on(.put, "/api/v1/abh/applications/{id}/state", .keepApplicationRegister) { request, context in
            let id = try context.id()
            let version = try request.ifMatchVersion(of: Self.location("/api/v1/abh/applications", id))
            let body = try await request.json(StateBody.self, context: context, snakeCase: true)
            var errors: [String: String] = [:]
            let state = Self.choice(body.state, ResidenceApplication.State.self, field: "state", into: &errors)
            let day = Self.day(body.changedOn, field: "changed_on", into: &errors)
            if !errors.isEmpty { throw InvalidInput(errors: errors) }
            let changed = try await Self.precondition {
                try await applications.change(
                    id,
                    to: state,
                    on: day,
                    note: body.note,
                    officerID: body.officerId,
                    version: version,
                    by: context.identity,
                    clientAddress: context.clientAddress
                )
            }
            return JSONResponse(ApplicationJSON(changed), headers: [.eTag: "\"\(changed.version)\""], snakeCase: true)
        }
        routes.get("/api/v1/abh/backlog", .keepApplicationRegister) { request, context in
            var errors: [String: String] = [:]
            let day = Self.day(request.uri.queryParameters["as_of"].map(String.init), field: "as_of", into: &errors) ?? .today
            if !errors.isEmpty { throw InvalidInput(errors: errors) }
            return JSONResponse(
                BacklogJSON(try await applications.backlog(asOf: day, by: context.identity, clientAddress: context.clientAddress)),
                snakeCase: true
            )
        }
    }

    func registerPrechecks(on routes: GuardedRouter) {
        routes.get("/api/v1/abh/prechecks", .keepApplicationRegister) { _, context in
            let inbox = try await prechecks.inbox(by: context.identity, clientAddress: context.clientAddress)
            return JSONResponse(Listed(items: inbox.map(PrecheckJSON.init)), snakeCase: true)
        }
        routes.get("/api/v1/abh/prechecks/{id}", .keepApplicationRegister) { _, context in
            let found = try await prechecks.precheck(try context.id(), by: context.identity, clientAddress: context.clientAddress)
            return JSONResponse(PrecheckJSON(found), headers: [.eTag: "\"\(found.version)\""], snakeCase: true)
        }
        routes.on(.post, "/api/v1/abh/prechecks/{id}/answers", .keepApplicationRegister) { request, context in
            let id = try context.id()
            let version = try request.ifMatchVersion(of: Self.location("/api/v1/abh/prechecks", id))
            let body = try await request.json(AnswerBody.self, context: context, snakeCase: true)
            var errors: [String: String] = [:]
            let verdict = Self.choice(body.verdict, Precheck.Verdict.self, field: "verdict", into: &errors)
            if !errors.isEmpty { throw InvalidInput(errors: errors) }
            let answered = try await Self.precondition {
                try await prechecks.answer(
                    id,
                    verdict: verdict,
                    note: body.note,
                    version: version,
                    by: context.identity,
                    clientAddress: context.clientAddress
                )
            }
            return JSONResponse(PrecheckJSON(answered), headers: [.eTag: "\"\(answered.version)\""], snakeCase: true)
        }
        routes.get("/api/v1/cases/{id}/prechecks", .workCases) { _, context in
            let view = try await prechecks.caseView(try context.id(), by: context.identity, clientAddress: context.clientAddress)
            return JSONResponse(Listed(items: view.prechecks.map(PrecheckJSON.init)), snakeCase: true)
        }
        routes.on(.post, "/api/v1/cases/{id}/prechecks", .workCases) { request, context in
            let body = try await request.json(NewPrecheckBody.self, context: context, snakeCase: true)
            var errors: [String: String] = [:]
            var new = NewPrecheck()
            new.abhTenantID = body.abh
            new.kind = Self.choice(body.kind, ResidenceApplication.Kind.self, field: "kind", into: &errors)
            new.livelihood = Self.choice(body.livelihood, Precheck.Livelihood.self, field: "livelihood", into: &errors)
            new.consentGivenOn = Self.day(body.consentGivenOn, field: "consent_given_on", into: &errors)
            if !errors.isEmpty { throw InvalidInput(errors: errors) }
            new.yearsOfResidence = body.yearsOfResidence
            new.languageLevel = body.languageLevel
            new.schoolOrWork = body.schoolOrWork
            new.missing = body.missing
            new.question = body.question
            let asked = try await prechecks.ask(case: try context.id(), new, by: context.identity, clientAddress: context.clientAddress)
            return JSONResponse(
                PrecheckJSON(asked),
                status: .created,
                headers: [.location: Self.location("/api/v1/cases/\(try context.id().uuidString.lowercased())/prechecks", asked.id)],
                snakeCase: true
            )
        }
    }

    func registerCampaigns(on routes: GuardedRouter) {
        routes.get("/api/v1/campaigns", .coordinateDistrict) { _, context in
            let overview = try await campaigns.overview(by: context.identity, clientAddress: context.clientAddress)
            return JSONResponse(Listed(items: overview.campaigns.map { CampaignJSON($0) }), snakeCase: true)
        }
        routes.on(.post, "/api/v1/campaigns", .coordinateDistrict) { request, context in
            let body = try await request.json(NewCampaignBody.self, context: context, snakeCase: true)
            let created = try await campaigns.create(try Self.plan(body), by: context.identity, clientAddress: context.clientAddress)
            return JSONResponse(
                CampaignJSON(created),
                status: .created,
                headers: [.location: Self.location("/api/v1/campaigns", created.id)],
                snakeCase: true
            )
        }
        routes.get("/api/v1/campaigns/{id}", .coordinateDistrict) { _, context in
            let found = try await campaigns.versioned(try context.id(), by: context.identity, clientAddress: context.clientAddress)
            return JSONResponse(
                CampaignJSON(found.campaign, counts: found.counts, version: found.version),
                headers: [.eTag: "\"\(found.version)\""],
                snakeCase: true
            )
        }
        routes.on(.put, "/api/v1/campaigns/{id}", .coordinateDistrict) { request, context in
            let id = try context.id()
            let version = try request.ifMatchVersion(of: Self.location("/api/v1/campaigns", id))
            let body = try await request.json(NewCampaignBody.self, context: context, snakeCase: true)
            let changed = try await campaigns.change(
                id,
                version: version,
                to: try Self.plan(body),
                by: context.identity,
                clientAddress: context.clientAddress
            )
            return JSONResponse(
                CampaignJSON(changed.campaign, version: changed.version),
                headers: [.eTag: "\"\(changed.version)\""],
                snakeCase: true
            )
        }
        // The participating towns' case workers: the campaigns their town takes part in, and clients informed.
        routes.get("/api/v1/town-campaigns", .workCases) { _, context in
            let found = try await campaigns.ofTown(by: context.identity, clientAddress: context.clientAddress)
            return JSONResponse(Listed(items: found.map { CampaignJSON($0) }), snakeCase: true)
        }
        routes.get("/api/v1/town-campaigns/{id}", .workCases) { _, context in
            let found = try await campaigns.forTown(try context.id(), by: context.identity, clientAddress: context.clientAddress)
            return JSONResponse(TownCampaignJSON(campaign: CampaignJSON(found.campaign), informed: found.informed), snakeCase: true)
        }
        routes.on(.post, "/api/v1/town-campaigns/{id}/informed", .workCases) { request, context -> Response in
            let id = try context.id()
            let body = try await request.json(InformedBody.self, context: context, snakeCase: true)
            var errors: [String: String] = [:]
            let day = Self.day(body.informedOn, field: "informed_on", into: &errors)
            if !errors.isEmpty { throw InvalidInput(errors: errors) }
            try await campaigns.inform(
                id,
                caseNumber: body.caseNumber ?? "",
                on: day,
                how: body.how ?? "",
                by: context.identity,
                clientAddress: context.clientAddress
            )
            // Recorded; the town's count is in GET /api/v1/town-campaigns/{id}.
            return Response(status: .noContent)
        }
    }
}
