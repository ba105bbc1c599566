import Foundation
import Hummingbird

/// Case conferences in the API: `/api/v1/cases/{id}/conferences` and `/api/v1/conferences…`. Changes are guarded by
/// `attendConferences`: the service lets the organising town's case workers, the coordinators who lead a district
/// conference and (for the minutes) the coordinator who took on the moderation make them, 404 for anyone else.
struct ConferenceAPI {
    let conferences: Conferences

    struct Minutes: Decodable, Sendable { var minutes: String }
    struct Schedule: Decodable, Sendable { var scheduledAt: Date }
    struct Cancellation: Decodable, Sendable { var reason: String }
    struct NewItem: Decodable {
        var text: String
        var owner: String
        var dueOn: Day
    }

    func register(on routes: GuardedRouter) {
        routes.on(.post, "/api/v1/cases/{id}/conferences", .workCases, use: plan)
        routes.get("/api/v1/conferences", .attendConferences) { _, context in
            JSONResponse(try await conferences.list(by: context.identity, clientAddress: context.clientAddress), snakeCase: true)
        }
        routes.get("/api/v1/conferences/{id}", .attendConferences, use: conference)
        versionedChange(.put, "minutes", Minutes.self, on: routes) { id, version, body, context in
            try await conferences.recordMinutes(
                id,
                version: version,
                minutes: body.minutes,
                by: context.identity,
                clientAddress: context.clientAddress
            )
        }
        versionedChange(.put, "schedule", Schedule.self, on: routes) { id, version, body, context in
            try await conferences.reschedule(id, version: version, to: body.scheduledAt, by: context.identity, clientAddress: context.clientAddress)
        }
        versionedChange(.post, "cancellation", Cancellation.self, on: routes) { id, version, body, context in
            try await conferences.cancel(id, version: version, reason: body.reason, by: context.identity, clientAddress: context.clientAddress)
        }
        versionedChange(.put, "plan", LedPlan.self, permission: .coordinateDistrict, on: routes) { id, version, body, context in
            try await conferences.planLed(id, version: version, body, by: context.identity, clientAddress: context.clientAddress)
        }
        routes.on(.post, "/api/v1/conferences/{id}/moderation", .coordinateDistrict, use: takeOnModeration)
        routes.on(.post, "/api/v1/conferences/{id}/participants", .attendConferences, use: invite)
        routes.on(.post, "/api/v1/conferences/{id}/action-items", .attendConferences, use: addActionItem)
        routes.on(.post, "/api/v1/conferences/{id}/action-items/{item}/done", .attendConferences, use: completeActionItem)
    }

    // MARK: - Handlers

    /// `POST /api/v1/cases/{id}/conferences`: a conference on the case, planned by its town.
    @Sendable func plan(_ request: Request, _ context: SignedInContext) async throws -> JSONResponse<CaseConference> {
        let body = try await request.json(NewConference.self, context: context, snakeCase: true)
        let conference = try await conferences.plan(case: try context.id(), body, by: context.identity, clientAddress: context.clientAddress)
        return JSONResponse(conference, status: .created, headers: [.location: "/api/v1/conferences/\(conference.id)"], snakeCase: true)
    }

    /// `GET /api/v1/conferences/{id}`, with its version as the ETag.
    @Sendable func conference(_ request: Request, _ context: SignedInContext) async throws -> JSONResponse<CaseConference> {
        Self.tagged(try await conferences.conference(try context.id(), by: context.identity, clientAddress: context.clientAddress))
    }

    /// `POST /api/v1/conferences/{id}/moderation`: a coordinator takes on the moderation the town asked for.
    @Sendable func takeOnModeration(_ request: Request, _ context: SignedInContext) async throws -> JSONResponse<CaseConference> {
        Self.tagged(try await conferences.takeOnModeration(try context.id(), by: context.identity, clientAddress: context.clientAddress))
    }

    /// `POST /api/v1/conferences/{id}/participants`: more participants, with the client's consent where persons are named.
    @Sendable func invite(_ request: Request, _ context: SignedInContext) async throws -> JSONResponse<CaseConference> {
        let body = try await request.json(MoreParticipants.self, context: context, snakeCase: true)
        return Self.tagged(try await conferences.invite(try context.id(), body, by: context.identity, clientAddress: context.clientAddress))
    }

    /// `POST /api/v1/conferences/{id}/action-items`: answers the conference with the new item.
    @Sendable func addActionItem(_ request: Request, _ context: SignedInContext) async throws -> JSONResponse<CaseConference> {
        let body = try await request.json(NewItem.self, context: context, snakeCase: true)
        let conference = try await conferences.addActionItem(
            try context.id(),
            text: body.text,
            owner: body.owner,
            dueOn: body.dueOn,
            by: context.identity,
            clientAddress: context.clientAddress
        )
        return JSONResponse(conference, status: .created, snakeCase: true)
    }

    /// `POST /api/v1/conferences/{id}/action-items/{item}/done`.
    @Sendable func completeActionItem(_ request: Request, _ context: SignedInContext) async throws -> Response {
        try await conferences.completeActionItem(
            try context.id("item"),
            of: try context.id(),
            by: context.identity,
            clientAddress: context.clientAddress
        )
        return Response(status: .noContent)
    }

    static func tagged(_ conference: CaseConference) -> JSONResponse<CaseConference> {
        JSONResponse(conference, headers: [.eTag: "\"\(conference.version)\""], snakeCase: true)
    }

    /// `/api/v1/conferences/{id}/PART`: a change by the organiser at the version of the If-Match header (428 without one);
    /// answers the conference with its new ETag.
    func versionedChange<Body: Decodable & Sendable>(
        _ method: HTTPRequest.Method,
        _ part: String,
        _ body: Body.Type,
        permission: Permission = .attendConferences,
        on routes: GuardedRouter,
        _ apply: @escaping @Sendable (UUID, Int, Body, SignedInContext) async throws -> CaseConference
    ) {
        routes.on(method, "/api/v1/conferences/{id}/\(part)", permission) { request, context in
            let id = try context.id()
            let version = try request.ifMatchVersion(of: "/api/v1/conferences/\(id)")
            return Self.tagged(try await apply(id, version, try await request.json(Body.self, context: context, snakeCase: true), context))
        }
    }
}
