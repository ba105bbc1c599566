import Foundation
import Hummingbird

/// Advisors invited to one meeting of the steering group: `/api/v1/steering-group/meetings/{id}/advisors…`.
struct MeetingAdvisorsAPI {
    let advisors: MeetingAdvisors

    func register(on routes: GuardedRouter) {
        routes.get("/api/v1/steering-group/meetings/{id}/advisors", .runCommittees) { _, context in
            JSONResponse(try await advisors.meeting(try context.id(), by: context.identity, clientAddress: context.clientAddress))
        }
        routes.on(.post, "/api/v1/steering-group/meetings/{id}/advisors", .coordinateDistrict) { request, context in
            let body = try await request.json(NewMeetingAdvisor.self, context: context)
            return JSONResponse(
                try await advisors.invite(body, to: try context.id(), by: context.identity, clientAddress: context.clientAddress),
                status: .created
            )
        }
        routes.on(.delete, "/api/v1/steering-group/meetings/{id}/advisors/{advisor}", .coordinateDistrict) { _, context -> Response in
            _ = try await advisors.withdraw(
                try context.id("advisor"),
                from: try context.id(),
                by: context.identity,
                clientAddress: context.clientAddress
            )
            return Response(status: .noContent)
        }
    }
}
