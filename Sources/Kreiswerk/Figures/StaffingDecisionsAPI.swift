import Foundation
import Hummingbird

/// The district's staffing in the API (issue 19): `GET /api/v1/staffing/decisions` (every year, or `?year=`),
/// `GET /api/v1/staffing/tenants/{slug}` (one tenant year by year, each entry with its version) and
/// `PUT /api/v1/staffing/tenants/{slug}/decision` (the district's decision, `If-Match` with the entry's version, "0" for the first).
struct StaffingDecisionsAPI {
    let decisions: StaffingDecisions

    /// The plan of one year, or of all years without `year`; a year that is not one is a 422 naming `year`.
    static func year(_ text: String?) throws -> Int? {
        guard let text else { return nil }
        guard let year = Int(text), (2000...2100).contains(year) else {
            throw InvalidInput(field: "year", "Bitte das Jahr als vierstellige Zahl von 2000 bis 2100 angeben, z. B. 2022.")
        }
        return year
    }

    static func only(_ year: Int?, _ plan: StaffingPlan) -> StaffingPlan {
        guard let year else { return plan }
        var plan = plan
        plan.entries = plan.entries.filter { $0.year == year }
        plan.totals = plan.totals.filter { $0.year == year }
        return plan
    }

    func register(on routes: GuardedRouter) {
        routes.get("/api/v1/staffing/decisions", .viewDistrictFigures) { request, context in
            let year = try Self.year(request.uri.queryParameters["year"].map(String.init))
            return JSONResponse(
                Self.only(year, try await decisions.plan(by: context.identity, clientAddress: context.clientAddress)),
                snakeCase: true
            )
        }

        routes.get("/api/v1/staffing/tenants/{slug}", .viewDistrictFigures) { _, context in
            let slug = try context.parameters.decoded("slug")
            return JSONResponse(try await decisions.history(of: slug, by: context.identity, clientAddress: context.clientAddress), snakeCase: true)
        }

        routes.on(.put, "/api/v1/staffing/tenants/{slug}/decision", .coordinateDistrict) { request, context in
            let slug = try context.parameters.decoded("slug")
            let version = try request.ifMatchVersion(of: "/api/v1/staffing/tenants/\(slug)")
            let body = try await request.json(StaffingDecisionRequest.self, context: context)
            let entry = try await decisions.decide(slug, body, version: version, by: context.identity, clientAddress: context.clientAddress)
            return JSONResponse(entry, headers: [.eTag: "\"\(entry.version)\""], snakeCase: true)
        }
    }
}
