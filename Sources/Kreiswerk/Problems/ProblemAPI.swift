import Foundation
import Hummingbird

/// Structural problems and the ladder (`/api/v1/problems…`) and the coordinators' polls (`/api/v1/polls…`).
struct ProblemAPI {
    let problems: Problems
    let policy: Policy

    struct Reason: Decodable { var reason: String }
    struct Assignment: Decodable {
        var groupID: UUID
        enum CodingKeys: String, CodingKey { case groupID = "group_id" }
    }
    struct Solution: Decodable {
        var solution: String
        var publish: Bool?
    }
    struct Submission: Decodable { var text: String }
    struct Question: Decodable {
        var question: String
        /// Ask the carriers' case managers too (towns only by default).
        var includeCarriers: Bool?
        enum CodingKeys: String, CodingKey { case question, includeCarriers = "include_carriers" }
    }
    struct PollAnswer: Decodable {
        var known: Bool?
        var answer: String?
    }
    struct NewDeadline: Decodable {
        var deadline: String
        var reason: String
    }

    /// Reading problems: case managers (their own and published ones), coordinators and assistants (the district's).
    static func mayReadProblems(_ identity: Identity, _ policy: Policy) throws {
        guard policy.allows(identity, .raiseProblems) || policy.allows(identity, .coordinateDistrict) || policy.allows(identity, .runCommittees)
        else {
            throw DomainError.forbidden("Systemprobleme sehen die Case Manager der Städte und die Koordinierungsstellen des Kreises.")
        }
    }

    func register(on routes: GuardedRouter) {
        routes.get("/api/v1/problems", .ownAccount) { request, context in
            try Self.mayReadProblems(context.identity, policy)
            let level = try request.uri.queryParameters["level"].map { value in
                guard let level = LadderLevel(rawValue: String(value)) else {
                    throw InvalidInput(field: "level", "level ist municipal, district, steering oder state.")
                }
                return level
            }
            return JSONResponse(try await problems.list(level: level, by: context.identity, clientAddress: context.clientAddress))
        }
        routes.on(.post, "/api/v1/problems", .raiseProblems) { request, context in
            let problem = try await problems.raise(
                try await request.json(NewProblem.self, context: context),
                by: context.identity,
                clientAddress: context.clientAddress
            )
            return JSONResponse(problem, status: .created, headers: [.location: "/api/v1/problems/\(problem.id)", .eTag: "\"\(problem.version)\""])
        }
        routes.on(.post, "/api/v1/problems/from-outside", .coordinateDistrict) { request, context in
            let problem = try await problems.recordFromOutside(
                try await request.json(RecordedProblem.self, context: context),
                by: context.identity,
                clientAddress: context.clientAddress
            )
            return JSONResponse(problem, status: .created, headers: [.location: "/api/v1/problems/\(problem.id)", .eTag: "\"\(problem.version)\""])
        }
        routes.get("/api/v1/problems/{id}", .ownAccount) { _, context in
            try Self.mayReadProblems(context.identity, policy)
            let problem = try await problems.problem(try context.id(), by: context.identity, clientAddress: context.clientAddress)
            return JSONResponse(problem, headers: [.eTag: "\"\(problem.version)\""])
        }
        steer(routes, "escalate", Reason.self) { id, version, body, context in
            try await problems.escalate(id, version: version, reason: body.reason, by: context.identity, clientAddress: context.clientAddress)
        }
        steer(routes, "deadline", NewDeadline.self) { id, version, body, context in
            try await problems.setDeadline(
                id,
                version: version,
                deadline: body.deadline,
                reason: body.reason,
                by: context.identity,
                clientAddress: context.clientAddress
            )
        }
        steer(routes, "assign", Assignment.self) { id, version, body, context in
            try await problems.assign(id, version: version, group: body.groupID, by: context.identity, clientAddress: context.clientAddress)
        }
        steer(routes, "solve", Solution.self) { id, version, body, context in
            try await problems.solve(
                id,
                version: version,
                solution: body.solution,
                publish: body.publish ?? false,
                by: context.identity,
                clientAddress: context.clientAddress
            )
        }
        steer(routes, "publish", Empty.self) { id, version, _, context in
            try await problems.publish(id, version: version, by: context.identity, clientAddress: context.clientAddress)
        }
        steer(routes, "state-submission", Submission.self) { id, version, body, context in
            try await problems.submitToState(id, version: version, text: body.text, by: context.identity, clientAddress: context.clientAddress)
        }
        routes.on(.post, "/api/v1/problems/{id}/polls", .coordinateDistrict) { request, context in
            let body = try await request.json(Question.self, context: context)
            return JSONResponse(
                try await problems.poll(
                    try context.id(),
                    question: body.question,
                    includeCarriers: body.includeCarriers ?? false,
                    by: context.identity,
                    clientAddress: context.clientAddress
                ),
                status: .created
            )
        }
        routes.get("/api/v1/polls", .raiseProblems) { _, context in
            JSONResponse(try await problems.askedPolls(by: context.identity, clientAddress: context.clientAddress))
        }
        routes.on(.post, "/api/v1/polls/{id}/answers", .raiseProblems) { request, context -> Response in
            let body = try await request.json(PollAnswer.self, context: context)
            try await problems.answer(
                poll: try context.id(),
                known: body.known,
                answer: body.answer ?? "",
                by: context.identity,
                clientAddress: context.clientAddress
            )
            return Response(status: .noContent)
        }
    }

    struct Empty: Decodable {}

    /// A coordinator's step on the ladder: `POST /api/v1/problems/{id}/<action>` with If-Match.
    private func steer<Body: Decodable & Sendable>(
        _ routes: GuardedRouter,
        _ action: String,
        _ body: Body.Type,
        _ perform: @escaping @Sendable (UUID, Int, Body, SignedInContext) async throws -> StructuralProblem
    ) {
        routes.on(.post, "/api/v1/problems/{id}/\(action)", .coordinateDistrict) { request, context in
            let id = try context.id()
            let version = try request.ifMatchVersion(of: "/api/v1/problems/\(id)")
            let body = Body.self == Empty.self ? Empty() as! Body : try await request.json(Body.self, context: context)
            let problem = try await perform(id, version, body, context)
            return JSONResponse(problem, headers: [.eTag: "\"\(problem.version)\""])
        }
    }
}
