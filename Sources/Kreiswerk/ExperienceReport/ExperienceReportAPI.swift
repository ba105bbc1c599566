import Foundation
import Hummingbird

/// The experience reports in the API (issue 21): `GET /api/v1/districts/{slug}/experience-reports` (the list),
/// `GET …/{period}` (one report with its figures; ETag its version), `PUT …/{period}` (the sections, `If-Match` with the
/// version, "0" to start the report) and `POST …/{period}/release` (`If-Match`; freezes the figures).
struct ExperienceReportAPI {
    let reports: ExperienceReports

    static let base = "/api/v1/districts/{slug}/experience-reports"

    func register(on routes: GuardedRouter) {
        routes.get(Self.base, .viewDistrictFigures) { _, context in
            let slug = try context.parameters.decoded("slug")
            return JSONResponse(try await reports.list(district: slug, by: context.identity, clientAddress: context.clientAddress), snakeCase: true)
        }
        routes.get("\(Self.base)/{period}", .viewDistrictFigures) { _, context in
            let (slug, period) = (try context.parameters.decoded("slug"), try context.parameters.decoded("period"))
            let report = try await reports.report(period, district: slug, by: context.identity, clientAddress: context.clientAddress)
            return JSONResponse(report, headers: [.eTag: "\"\(report.version)\""], snakeCase: true)
        }
        routes.on(.put, "\(Self.base)/{period}", .coordinateDistrict) { request, context in
            let (slug, period) = (try context.parameters.decoded("slug"), try context.parameters.decoded("period"))
            let version = try request.ifMatchVersion(of: "/api/v1/districts/\(slug)/experience-reports/\(period)")
            let body = try await request.json(ExperienceReportRequest.self, context: context)
            let report = try await reports.save(
                period,
                body,
                version: version,
                district: slug,
                by: context.identity,
                clientAddress: context.clientAddress
            )
            return JSONResponse(report, headers: [.eTag: "\"\(report.version)\""], snakeCase: true)
        }
        routes.post("\(Self.base)/{period}/release", .coordinateDistrict) { request, context in
            let (slug, period) = (try context.parameters.decoded("slug"), try context.parameters.decoded("period"))
            let version = try request.ifMatchVersion(of: "/api/v1/districts/\(slug)/experience-reports/\(period)")
            let report = try await reports.release(
                period,
                version: version,
                district: slug,
                by: context.identity,
                clientAddress: context.clientAddress
            )
            return JSONResponse(report, headers: [.eTag: "\"\(report.version)\""], snakeCase: true)
        }
    }
}
