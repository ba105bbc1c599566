import Foundation
import Hummingbird

/// The committees: project groups (`/api/v1/project-groups…`) and the steering group (`/api/v1/steering-group…`).
struct CommitteeAPI {
    let groups: ProjectGroups
    let steering: Steering

    struct Rules: Decodable {
        var rulesOfProcedure: String
        var rulesAdoptedOn: Day?
        enum CodingKeys: String, CodingKey { case rulesOfProcedure = "rules_of_procedure", rulesAdoptedOn = "rules_adopted_on" }
    }
    struct Minutes: Decodable { var minutes: String }

    func register(on routes: GuardedRouter) {
        routes.get("/api/v1/project-groups", .ownAccount) { _, context in
            JSONResponse(try await groups.list(by: context.identity, clientAddress: context.clientAddress))
        }
        routes.on(.post, "/api/v1/project-groups", .runCommittees) { request, context in
            let group = try await groups.create(
                try await request.json(NewProjectGroup.self, context: context),
                by: context.identity,
                clientAddress: context.clientAddress
            )
            return JSONResponse(group, status: .created, headers: [.location: "/api/v1/project-groups/\(group.id)"])
        }
        routes.get("/api/v1/project-groups/{id}", .ownAccount) { _, context in
            JSONResponse(try await groups.group(try context.id(), by: context.identity, clientAddress: context.clientAddress))
        }
        routes.on(.post, "/api/v1/project-groups/{id}/members", .runCommittees) { request, context in
            let body = try await request.json(NewMember.self, context: context)
            return JSONResponse(
                try await groups.addMember(body, to: try context.id(), by: context.identity, clientAddress: context.clientAddress),
                status: .created
            )
        }
        routes.on(.delete, "/api/v1/project-groups/{id}/members/{member}", .runCommittees) { _, context -> Response in
            try await groups.removeMember(
                try context.id("member"),
                from: try context.id(),
                by: context.identity,
                clientAddress: context.clientAddress
            )
            return Response(status: .noContent)
        }
        routes.on(.post, "/api/v1/project-groups/{id}/meetings", .runCommittees) { request, context in
            let body = try await request.json(NewMeeting.self, context: context)
            return JSONResponse(
                try await groups.planMeeting(body, of: try context.id(), by: context.identity, clientAddress: context.clientAddress),
                status: .created
            )
        }
        routes.on(.post, "/api/v1/project-groups/{id}/tasks", .runCommittees) { request, context in
            let body = try await request.json(NewTask.self, context: context)
            return JSONResponse(
                try await groups.addTask(body, to: try context.id(), by: context.identity, clientAddress: context.clientAddress),
                status: .created
            )
        }
        routes.on(.post, "/api/v1/project-groups/{id}/tasks/{task}/done", .runCommittees) { _, context -> Response in
            try await groups.completeTask(
                try context.id("task"),
                of: try context.id(),
                by: context.identity,
                clientAddress: context.clientAddress
            )
            return Response(status: .noContent)
        }
        routes.on(.put, "/api/v1/meetings/{id}/minutes", .runCommittees) { request, context -> Response in
            let id = try context.id()
            let version = try request.ifMatchVersion(of: "the meeting in GET /api/v1/steering-group or /api/v1/project-groups/{id}")
            let body = try await request.json(Minutes.self, context: context)
            try await steering.recordMinutes(id, version: version, minutes: body.minutes, by: context.identity, clientAddress: context.clientAddress)
            return Response(status: .noContent)
        }

        routes.get("/api/v1/steering-group", .viewSteeringGroup) { _, context in
            let group = try await steering.group(by: context.identity, clientAddress: context.clientAddress)
            return JSONResponse(group, headers: [.eTag: "\"\(group.version)\""])
        }
        routes.on(.put, "/api/v1/steering-group/rules", .runCommittees) { request, context in
            let version = try request.ifMatchVersion(of: "/api/v1/steering-group")
            let body = try await request.json(Rules.self, context: context)
            let group = try await steering.setRules(
                body.rulesOfProcedure,
                adoptedOn: body.rulesAdoptedOn,
                version: version,
                by: context.identity,
                clientAddress: context.clientAddress
            )
            return JSONResponse(group, headers: [.eTag: "\"\(group.version)\""])
        }
        routes.on(.post, "/api/v1/steering-group/members", .runCommittees) { request, context in
            let body = try await request.json(NewSteeringMember.self, context: context)
            return JSONResponse(try await steering.addMember(body, by: context.identity, clientAddress: context.clientAddress), status: .created)
        }
        routes.on(.delete, "/api/v1/steering-group/members/{id}", .runCommittees) { _, context -> Response in
            try await steering.removeMember(try context.id(), by: context.identity, clientAddress: context.clientAddress)
            return Response(status: .noContent)
        }
        routes.on(.post, "/api/v1/steering-group/meetings", .runCommittees) { request, context in
            let body = try await request.json(NewMeeting.self, context: context)
            return JSONResponse(try await steering.planMeeting(body, by: context.identity, clientAddress: context.clientAddress), status: .created)
        }
        routes.on(.post, "/api/v1/steering-group/papers", .runCommittees) { request, context in
            let body = try await request.json(NewPaper.self, context: context)
            return JSONResponse(try await steering.submitPaper(body, by: context.identity, clientAddress: context.clientAddress), status: .created)
        }
        routes.on(.post, "/api/v1/steering-group/papers/{id}/decision", .runCommittees) { request, context in
            let body = try await request.json(NewDecision.self, context: context)
            return JSONResponse(
                try await steering.decide(try context.id(), body, by: context.identity, clientAddress: context.clientAddress)
            )
        }
    }
}
