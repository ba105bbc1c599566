import Foundation
import Hummingbird

/// The milestone plan in the API (issue 21): `GET /api/v1/districts/{slug}/milestones` (everyone of the district; `?as_of=`
/// a day for "overdue"), `POST` there to add a task and `PATCH …/milestones/{id}` to change status, who and note (the
/// district's coordinators; `If-Match` with the task's version).
struct MilestonesAPI {
    let plan: MilestonePlan

    static func day(_ text: String?) throws -> Day {
        guard let text else { return .today }
        guard let day = Day(text) else {
            throw InvalidInput(field: "as_of", "Bitte den Stichtag als Datum angeben, z. B. 2022-07-01.")
        }
        return day
    }

    static func taskID(_ text: String) throws -> UUID {
        guard let id = UUID(uuidString: text) else { throw DomainError.notFound("Diese Aufgabe gibt es im Meilensteinplan nicht.") }
        return id
    }

    func register(on routes: GuardedRouter) {
        routes.get("/api/v1/districts/{slug}/milestones", .viewDocumentationStandard) { request, context in
            let slug = try context.parameters.decoded("slug")
            let day = try Self.day(request.uri.queryParameters["as_of"].map(String.init))
            return JSONResponse(
                try await plan.plan(ofDistrict: slug, by: context.identity, clientAddress: context.clientAddress, asOf: day),
                snakeCase: true
            )
        }

        routes.post("/api/v1/districts/{slug}/milestones", .coordinateDistrict) { request, context in
            let slug = try context.parameters.decoded("slug")
            let body = try await request.json(NewMilestoneTask.self, context: context)
            let task = try await plan.add(body, ofDistrict: slug, by: context.identity, clientAddress: context.clientAddress)
            return JSONResponse(task, status: .created, headers: [.eTag: "\"\(task.version)\""], snakeCase: true)
        }

        routes.on(.patch, "/api/v1/districts/{slug}/milestones/{id}", .coordinateDistrict) { request, context in
            let slug = try context.parameters.decoded("slug")
            let id = try Self.taskID(try context.parameters.decoded("id"))
            let version = try request.ifMatchVersion(of: "/api/v1/districts/\(slug)/milestones")
            let body = try await request.json(MilestoneChange.self, context: context)
            let outcome = try await plan.update(
                id,
                ofDistrict: slug,
                body,
                version: version,
                by: context.identity,
                clientAddress: context.clientAddress
            )
            return JSONResponse(outcome.task, headers: [.eTag: "\"\(outcome.task.version)\""], snakeCase: true)
        }
    }
}
