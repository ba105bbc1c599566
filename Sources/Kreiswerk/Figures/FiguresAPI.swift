import Foundation
import Hummingbird

/// The figures and the allocation key in the API: `/api/v1/figures…` and `/api/v1/staffing/allocation`.
struct FiguresAPI {
    let figures: DistrictFigures
    let staffing: Staffing

    static let noSnapshot = DomainError.notFound(
        "Für Ihren Kreis sind noch keine Kennzahlen berechnet; die Koordinierungsstelle kann sie aktualisieren, sonst geschieht es alle 15 Minuten."
    )

    struct Queued: Encodable, Sendable { var queued: Bool }

    func register(on routes: GuardedRouter) {
        routes.get("/api/v1/figures", .viewDistrictFigures) { request, context in
            let report: FiguresReport?
            if let text = request.uri.queryParameters["half_year"] {
                let halfYear = try HalfYear.parse(String(text), field: "half_year")
                report = try await figures.halfYear(halfYear, format: "json", for: context.identity, clientAddress: context.clientAddress)
            } else {
                report = try await figures.dashboard(for: context.identity)
            }
            guard let report else { throw Self.noSnapshot }
            return Response(
                status: .ok,
                headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
                body: .init(byteBuffer: try figures.json(report))
            )
        }
        routes.get("/api/v1/figures/export.csv", .viewDistrictFigures) { request, context in
            try await Self.csv(figures, request.uri.queryParameters["half_year"].map(String.init), field: "half_year", context)
        }
        routes.post("/api/v1/figures/refresh", .viewDistrictFigures) { _, context in
            JSONResponse(
                Queued(queued: try await figures.requestRefresh(by: context.identity, clientAddress: context.clientAddress)),
                status: .accepted
            )
        }
        routes.post("/api/v1/staffing/allocation", .viewDistrictFigures) { request, context in
            let body = try await request.json(AllocationRequest.self, context: context)
            return JSONResponse(try await staffing.allocate(body, for: context.identity), snakeCase: true)
        }
    }

    /// The half-year CSV, for the API and the page alike (`field`: the query parameter's name).
    static func csv(_ figures: DistrictFigures, _ text: String?, field: String, _ context: SignedInContext) async throws -> Response {
        let halfYear = try HalfYear.parse(text, field: field)
        guard let report = try await figures.halfYear(halfYear, format: "csv", for: context.identity, clientAddress: context.clientAddress) else {
            throw noSnapshot
        }
        return Response(
            status: .ok,
            headers: [
                .contentType: "text/csv; charset=utf-8", .cacheControl: "no-store",
                .contentDisposition: "attachment; filename=\"kennzahlen-\(report.district)-\(halfYear).csv\"",
            ],
            body: .init(byteBuffer: ByteBuffer(string: FiguresCSV.render(report)))
        )
    }
}
