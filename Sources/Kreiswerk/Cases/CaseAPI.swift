import Foundation
import Hummingbird

/// `/api/v1/clients`, `/api/v1/cases`, `/api/v1/client-fields` and the district's documentation standard.
/// Bodies and answers use snake_case keys.
struct CaseAPI {
    let work: CaseWork
    let standards: DocumentationStandards

    struct NewClient: Decodable {
        var client: ClientData
        var consentGivenOn: Day?
        var consentGivenHow: Consent.Manner?
        var consentInterpreterLanguage: String?
        var consentExpiresOn: Day?
        var allowDuplicate: Bool?

        enum CodingKeys: String, CodingKey {
            case consentGivenOn, consentGivenHow, consentInterpreterLanguage, consentExpiresOn, allowDuplicate
        }

        init(from decoder: any Decoder) throws {
            client = try ClientData(from: decoder)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            consentGivenOn = try container.decodeIfPresent(Day.self, forKey: .consentGivenOn)
            consentGivenHow = try container.decodeIfPresent(Consent.Manner.self, forKey: .consentGivenHow)
            consentInterpreterLanguage = try container.decodeIfPresent(String.self, forKey: .consentInterpreterLanguage)
            consentExpiresOn = try container.decodeIfPresent(Day.self, forKey: .consentExpiresOn)
            allowDuplicate = try container.decodeIfPresent(Bool.self, forKey: .allowDuplicate)
        }

        /// The consent to case management given with the registration, if any.
        var consent: ConsentGiven? {
            consentGivenOn.map {
                ConsentGiven(givenOn: $0, how: consentGivenHow, interpreterLanguage: consentInterpreterLanguage, expiresOn: consentExpiresOn)
            }
        }
    }

    struct ClientRecord: Encodable, Sendable {
        var client: Client
        var consents: [Consent]
        var cases: [CaseFile]
    }

    struct NewConsent: Decodable {
        var scope: Consent.Scope
        var recipient: String?
        var givenOn: Day
        var expiresOn: Day?
        var givenHow: Consent.Manner?
        var interpreterLanguage: String?
    }

    struct Withdrawal: Decodable {
        var withdrawnOn: Day?
    }

    struct NewCase: Decodable {
        var clientId: UUID
        var channel: AccessChannel
        var reason: String?
        var nextReviewOn: Day?
        var ownerId: UUID?
    }

    struct CaseRecord: Encodable, Sendable, HandWrittenJSON {
        var `case`: CaseFile
        var client: Client
        var goals: [Goal]
        var timeline: [CaseEvent]

        func writeJSON(to json: inout JSONText) {
            json.object { fields in
                fields.field("case", `case`)
                fields.field("client", client)
                fields.field("goals", goals)
                fields.field("timeline", timeline)
            }
        }
    }

    struct Note: Decodable { var text: String }
    struct HandOver: Decodable { var ownerId: UUID }

    struct Review: Decodable, Sendable {
        var outcome: GoalOutcome
        var note: String?
    }

    struct Postponement: Decodable, Sendable {
        var reviewOn: Day
        var reason: String?
    }

    /// `/api/v1/cases/{id}/goals/{goal}/PART`: a change of one goal at the version of the If-Match header (the goal's own);
    /// answers the goal with its new ETag.
    func goalChange<Body: Decodable & Sendable>(
        _ part: String,
        _ body: Body.Type,
        on routes: GuardedRouter,
        _ apply: @escaping @Sendable (UUID, UUID, Int, Body, SignedInContext) async throws -> Goal
    ) {
        routes.on(.post, "/api/v1/cases/{id}/goals/{goal}/\(part)", .workCases) { request, context in
            let id = try context.id()
            let goal = try context.id("goal")
            let version = try request.ifMatchVersion(of: "/api/v1/cases/\(id) (the goal's version)")
            let changed = try await apply(id, goal, version, try await request.json(Body.self, context: context, snakeCase: true), context)
            return JSONResponse(changed, headers: [.eTag: "\"\(changed.version)\""], snakeCase: true)
        }
    }

    func register(on routes: GuardedRouter) {
        StandInAPI(standIns: StandIns(work: work)).register(on: routes)
        routes.get("/api/v1/clients", .workCases, use: searchClients)
        routes.on(.post, "/api/v1/clients", .workCases, use: registerClient)
        routes.get("/api/v1/clients/{id}", .workCases, use: client)
        routes.on(.put, "/api/v1/clients/{id}", .workCases, use: updateClient)
        routes.on(.post, "/api/v1/clients/{id}/consents", .workCases, use: recordConsent)
        routes.on(.post, "/api/v1/clients/{id}/consents/{consent}/withdraw", .workCases, use: withdrawConsent)
        routes.get("/api/v1/client-fields", .workCases, use: clientFields)
        routes.on(.post, "/api/v1/client-fields", .defineClientFields, use: defineClientField)
        routes.get("/api/v1/cases", .workCases, use: myCases)
        routes.on(.post, "/api/v1/cases", .workCases, use: openCase)
        routes.get("/api/v1/cases/{id}", .workCases, use: caseView)
        routes.on(.post, "/api/v1/cases/{id}/phase", .workCases, use: changePhase)
        routes.on(.post, "/api/v1/cases/{id}/owner", .workCases, use: handOver)
        routes.on(.post, "/api/v1/cases/{id}/notes", .workCases, use: addNote)
        routes.on(.post, "/api/v1/cases/{id}/goals", .workCases, use: addGoal)

        goalChange("review", Review.self, on: routes) { id, goal, version, body, context in
            try await work.reviewGoal(
                goal,
                case: id,
                version: version,
                outcome: body.outcome,
                note: body.note,
                by: context.identity,
                clientAddress: context.clientAddress
            )
        }
        goalChange("postponement", Postponement.self, on: routes) { id, goal, version, body, context in
            try await work.postponeGoal(
                goal,
                case: id,
                version: version,
                to: body.reviewOn,
                reason: body.reason,
                by: context.identity,
                clientAddress: context.clientAddress
            )
        }
        routes.get("/api/v1/districts/{slug}/documentation-standard", .viewDocumentationStandard, use: documentationStandard)
        routes.on(.put, "/api/v1/districts/{slug}/documentation-standard", .setDocumentationStandard, use: setDocumentationStandard)
    }

    // MARK: - Handlers

    func searchClients(_ request: Request, _ context: SignedInContext) async throws -> some ResponseGenerator {
        let query = request.uri.queryParameters["q"].map(String.init) ?? ""
        return JSONResponse(try await work.search(query, by: context.identity, clientAddress: context.clientAddress))
    }

    func registerClient(_ request: Request, _ context: SignedInContext) async throws -> some ResponseGenerator {
        let body = try await request.json(NewClient.self, context: context, snakeCase: true)
        let client = try await work.register(
            body.client,
            consent: body.consent,
            allowDuplicate: body.allowDuplicate ?? false,
            by: context.identity,
            clientAddress: context.clientAddress
        )
        return JSONResponse(client, status: .created, headers: [.location: "/api/v1/clients/\(client.id)", .eTag: "\"\(client.version)\""])
    }

    func client(_ request: Request, _ context: SignedInContext) async throws -> some ResponseGenerator {
        let (client, consents, cases) = try await work.client(
            try context.id(),
            by: context.identity,
            clientAddress: context.clientAddress
        )
        return JSONResponse(
            ClientRecord(client: client, consents: consents, cases: cases),
            headers: [.eTag: "\"\(client.version)\""],
            snakeCase: true
        )
    }

    func updateClient(_ request: Request, _ context: SignedInContext) async throws -> some ResponseGenerator {
        let id = try context.id()
        let version = try request.ifMatchVersion(of: "/api/v1/clients/\(id)")
        let data = try await request.json(ClientData.self, context: context, snakeCase: true)
        let client = try await work.update(client: id, version: version, with: data, by: context.identity, clientAddress: context.clientAddress)
        return JSONResponse(client, headers: [.eTag: "\"\(client.version)\""])
    }

    func recordConsent(_ request: Request, _ context: SignedInContext) async throws -> some ResponseGenerator {
        let body = try await request.json(NewConsent.self, context: context, snakeCase: true)
        let consent = try await work.recordConsent(
            client: try context.id(),
            scope: body.scope,
            recipient: body.recipient,
            given: ConsentGiven(givenOn: body.givenOn, how: body.givenHow, interpreterLanguage: body.interpreterLanguage, expiresOn: body.expiresOn),
            by: context.identity,
            clientAddress: context.clientAddress
        )
        return JSONResponse(consent, status: .created, snakeCase: true)
    }

    func withdrawConsent(_ request: Request, _ context: SignedInContext) async throws -> Response {
        let body = try await request.json(Withdrawal.self, context: context, snakeCase: true)
        try await work.withdrawConsent(
            try context.id("consent"),
            client: try context.id(),
            on: body.withdrawnOn ?? .today,
            by: context.identity,
            clientAddress: context.clientAddress
        )
        return Response(status: .noContent)
    }

    func clientFields(_ request: Request, _ context: SignedInContext) async throws -> some ResponseGenerator {
        JSONResponse(try await work.fields(by: context.identity), snakeCase: true)
    }

    func defineClientField(_ request: Request, _ context: SignedInContext) async throws -> some ResponseGenerator {
        let field = try await request.json(ClientField.self, context: context, snakeCase: true)
        return JSONResponse(
            try await work.define(field, by: context.identity, clientAddress: context.clientAddress),
            status: .created,
            snakeCase: true
        )
    }

    func myCases(_ request: Request, _ context: SignedInContext) async throws -> some ResponseGenerator {
        let scope = request.uri.queryParameters["scope"].map(String.init) ?? "mine"
        guard ["mine", "tenant"].contains(scope) else { throw InvalidInput(field: "scope", "scope ist mine oder tenant.") }
        return JSONResponse(
            try await work.myCases(by: context.identity, wholeTenant: scope == "tenant", clientAddress: context.clientAddress)
        )
    }

    func openCase(_ request: Request, _ context: SignedInContext) async throws -> some ResponseGenerator {
        let body = try await request.json(NewCase.self, context: context, snakeCase: true)
        let file = try await work.openCase(
            client: body.clientId,
            channel: body.channel,
            reason: body.reason,
            nextReviewOn: body.nextReviewOn,
            owner: body.ownerId,
            by: context.identity,
            clientAddress: context.clientAddress
        )
        return JSONResponse(
            file,
            status: .created,
            headers: [.location: "/api/v1/cases/\(file.id)", .eTag: "\"\(file.version)\""],
            snakeCase: true
        )
    }

    func caseView(_ request: Request, _ context: SignedInContext) async throws -> some ResponseGenerator {
        let view = try await work.caseView(try context.id(), by: context.identity, clientAddress: context.clientAddress)
        return JSONResponse(
            CaseRecord(case: view.file, client: view.client, goals: view.goals, timeline: view.timeline),
            headers: [.eTag: "\"\(view.file.version)\""]
        )
    }

    func changePhase(_ request: Request, _ context: SignedInContext) async throws -> some ResponseGenerator {
        let id = try context.id()
        let version = try request.ifMatchVersion(of: "/api/v1/cases/\(id)")
        let change = try await request.json(CaseWork.PhaseChange.self, context: context, snakeCase: true)
        let file = try await work.change(case: id, version: version, to: change, by: context.identity, clientAddress: context.clientAddress)
        return JSONResponse(file, headers: [.eTag: "\"\(file.version)\""], snakeCase: true)
    }

    func handOver(_ request: Request, _ context: SignedInContext) async throws -> some ResponseGenerator {
        let id = try context.id()
        let version = try request.ifMatchVersion(of: "/api/v1/cases/\(id)")
        let body = try await request.json(HandOver.self, context: context, snakeCase: true)
        let file = try await work.handOver(
            case: id,
            version: version,
            to: body.ownerId,
            by: context.identity,
            clientAddress: context.clientAddress
        )
        return JSONResponse(file, headers: [.eTag: "\"\(file.version)\""], snakeCase: true)
    }

    func addNote(_ request: Request, _ context: SignedInContext) async throws -> Response {
        let body = try await request.json(Note.self, context: context, snakeCase: true)
        try await work.addNote(case: try context.id(), text: body.text, by: context.identity, clientAddress: context.clientAddress)
        return Response(status: .noContent)
    }

    func addGoal(_ request: Request, _ context: SignedInContext) async throws -> some ResponseGenerator {
        let body = try await request.json(CaseWork.NewGoal.self, context: context, snakeCase: true)
        let goal = try await work.addGoal(case: try context.id(), body, by: context.identity, clientAddress: context.clientAddress)
        return JSONResponse(goal, status: .created, headers: [.eTag: "\"\(goal.version)\""], snakeCase: true)
    }

    func documentationStandard(_ request: Request, _ context: SignedInContext) async throws -> some ResponseGenerator {
        Self.json(try await standards.standard(ofDistrict: try context.parameters.decoded("slug"), by: context.identity))
    }

    func setDocumentationStandard(_ request: Request, _ context: SignedInContext) async throws -> some ResponseGenerator {
        let body = try await request.json([String: [String]].self, context: context)
        return Self.json(
            try await standards.set(
                body,
                ofDistrict: try context.parameters.decoded("slug"),
                by: context.identity,
                clientAddress: context.clientAddress
            )
        )
    }

    static func json(_ standard: DocumentationStandard) -> JSONResponse<[String: [String]]> {
        JSONResponse(Dictionary(uniqueKeysWithValues: Phase.allCases.map { ($0.rawValue, standard.required(for: $0)) }))
    }
}
