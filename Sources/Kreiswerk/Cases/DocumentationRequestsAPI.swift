import Foundation
import Hummingbird

/// Change requests to the district's documentation standard in the API (issue 19):
/// `GET /api/v1/districts/{slug}/documentation-standard/requests` (the requests the caller sees: all of the district for
/// its coordinators, the own tenant's for a town's or carrier's case workers), `POST` there (propose a change) and
/// `POST /api/v1/districts/{slug}/documentation-standard/decisions` (a coordinator accepts or declines one).
struct DocumentationRequestsAPI {
    let requests: DocumentationRequests

    struct Proposal: Decodable {
        var phase: String?
        var add: [String]?
        var remove: [String]?
        var reason: String?
    }

    struct Decision: Decodable {
        var request: String?
        var decision: String?
        var reason: String?
    }

    struct Listing: Encodable {
        var requests: [DocumentationRequest]
    }

    func register(on routes: GuardedRouter) {
        routes.get("/api/v1/districts/{slug}/documentation-standard/requests", .viewDocumentationStandard) { _, context -> JSONResponse<Listing> in
            let overview = try await requests.overview(
                district: try context.parameters.decoded("slug"),
                by: context.identity,
                clientAddress: context.clientAddress
            )
            return JSONResponse(Listing(requests: overview.requests), snakeCase: true)
        }
        routes.post("/api/v1/districts/{slug}/documentation-standard/requests", .workCases) {
            request,
            context -> JSONResponse<DocumentationRequest> in
            let body = try await request.json(Proposal.self, context: context)
            let created = try await requests.submit(
                district: try context.parameters.decoded("slug"),
                phase: body.phase ?? "",
                add: body.add ?? [],
                remove: body.remove ?? [],
                reason: body.reason ?? "",
                by: context.identity,
                clientAddress: context.clientAddress
            )
            return JSONResponse(created, status: .created, snakeCase: true)
        }
        routes.post("/api/v1/districts/{slug}/documentation-standard/decisions", .setDocumentationStandard) {
            request,
            context -> JSONResponse<DocumentationRequest> in
            let body = try await request.json(Decision.self, context: context)
            guard let text = body.request, let id = UUID(uuidString: text) else {
                throw InvalidInput(field: "request", "Bitte die Kennung (UUID) des Vorschlags angeben, über den entschieden wird.")
            }
            let accept: Bool? =
                switch body.decision {
                case "accepted": true
                case "declined": false
                default: nil
                }
            if body.decision != nil && accept == nil {
                throw InvalidInput(field: "decision", "'\(body.decision ?? "")' ist keine Entscheidung; möglich: accepted, declined.")
            }
            let decided = try await requests.decide(
                id,
                district: try context.parameters.decoded("slug"),
                accept: accept,
                reason: body.reason,
                by: context.identity,
                clientAddress: context.clientAddress
            )
            return JSONResponse(decided, snakeCase: true)
        }
    }
}
