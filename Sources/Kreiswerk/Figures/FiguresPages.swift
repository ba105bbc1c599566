import Foundation
import Hummingbird

/// The figures' pages: the dashboard `/kennzahlen` (whole district or one town), the printable
/// half-year report `/kennzahlen/bericht?halbjahr=2026-2`, its CSV, and "jetzt aktualisieren".
struct FiguresPages {
    let figures: DistrictFigures
    let pages: Pages

    static let templates = ["figures", "figures-section", "figures-report", "staffing"]

    func register(on routes: GuardedRouter) {
        routes.get("/kennzahlen", .viewDistrictFigures) { request, context in
            let query = request.uri.queryParameters
            let refreshAsked = query["aktualisiert"].flatMap { Double(String($0)) }.map(Date.init(timeIntervalSince1970:))
            return try await dashboard(context, town: query["ort"].map(String.init), refreshAsked: refreshAsked)
        }
        routes.post("/kennzahlen/aktualisieren", .viewDistrictFigures) { _, context -> Response in
            _ = try await figures.requestRefresh(by: context.identity, clientAddress: context.clientAddress)
            // The page says whether the figures it shows were computed after this request, or not yet.
            return .redirect(to: "/kennzahlen?aktualisiert=\(Int(Date().timeIntervalSince1970))", type: .normal)
        }
        routes.get("/kennzahlen/bericht", .viewDistrictFigures) { request, context in
            let text = request.uri.queryParameters["halbjahr"].map(String.init) ?? HalfYear(containing: .today).description
            return try await report(context, halfYear: try HalfYear.parse(text, field: "halbjahr"))
        }
        routes.get("/kennzahlen/export.csv", .viewDistrictFigures) { request, context in
            try await FiguresAPI.csv(figures, request.uri.queryParameters["halbjahr"].map(String.init), field: "halbjahr", context)
        }
    }

    /// The last four half-years, newest first, for the export links.
    static func recentHalfYears(_ today: Day = .today) -> [[String: String]] {
        let current = HalfYear(containing: today)
        return (0..<4).map { back in
            let index = current.year * 2 + (current.half - 1) - back
            let halfYear = HalfYear("\(index / 2)-\(index % 2 + 1)")!
            return ["value": halfYear.description, "label": halfYear.label]
        }
    }

    /// The evaluation's sections of a unit (a town only those it has figures for; the district all).
    static func evaluation(_ report: FiguresReport, _ slug: String) -> [FigureTable] {
        let tables = report.evaluation.tables(for: slug)
        return (slug == report.total.slug ? tables : tables.filter { !$0.isEmpty }).map(\.section)
    }

    /// What the page says after „Jetzt aktualisieren“ asked at `asked`: done (with the new state) or still running.
    static func refreshNotice(asked: Date, computedAt: Date?) -> String {
        if let computedAt, computedAt >= asked {
            let time = GermanFormat.formatter("HH:mm").string(from: computedAt)
            return "Aktualisiert um \(time) Uhr: Die Kennzahlen sind neu berechnet (Stand \(GermanFormat.dateTime(computedAt)))."
        }
        return "Die Aktualisierung läuft; sie dauert meist nur Sekunden. Laden Sie die Seite neu, um den neuen Stand zu sehen."
    }

    func dashboard(_ context: SignedInContext, town: String?, refreshAsked: Date?) async throws -> Response {
        let identity = context.identity
        var data: [String: Any] = ["canRefresh": identity.tenant.kind == "district", "halfYears": Self.recentHalfYears()]
        let report = try await figures.dashboard(for: identity)
        if let refreshAsked { data["notice"] = Self.refreshNotice(asked: refreshAsked, computedAt: report?.computedAt) }
        guard let report else {
            data["empty"] = true
            return pages.render("figures", data, identity: identity, path: "/kennzahlen")
        }
        let selected = report.units.first { $0.slug == town } ?? report.total
        data.merge([
            "districtName": report.districtName, "stand": GermanFormat.dateTime(report.computedAt), "threshold": report.threshold,
            "belowThreshold": report.threshold - 1,
            "selectedName": selected.name, "overview": FigureTable.overview(report).values,
            "towns": ([report.total] + report.units).map { ["slug": $0.slug, "name": $0.name, "selected": $0.slug == selected.slug] },
            "sections": (FigureTable.sections(selected, months: "letzte 12 Monate") + Self.evaluation(report, selected.slug)).map(\.values),
        ]) { $1 }
        return pages.render("figures", data, identity: identity, path: "/kennzahlen")
    }

    func report(_ context: SignedInContext, halfYear: HalfYear) async throws -> Response {
        guard let report = try await figures.halfYear(halfYear, format: "print", for: context.identity, clientAddress: context.clientAddress) else {
            throw FiguresAPI.noSnapshot
        }
        let data: [String: Any] = [
            "districtName": report.districtName, "halfYear": halfYear.label, "halfYearValue": halfYear.description,
            "stand": GermanFormat.dateTime(report.computedAt), "threshold": report.threshold, "belowThreshold": report.threshold - 1,
            "today": GermanFormat.date(Date()),
            "overview": FigureTable.overview(report).values,
            "sections": (FigureTable.sections(report.total, months: halfYear.label) + Self.evaluation(report, report.total.slug)).map(\.values),
            "towns": report.units.map { unit in
                [
                    "name": unit.name,
                    "sections": (FigureTable.sections(unit, months: halfYear.label) + Self.evaluation(report, unit.slug)).map { section in
                        var values = section.values
                        values["id"] = "\(unit.slug)-\(section.id)"
                        values["chart"] = ""
                        return values
                    },
                ] as [String: Any]
            },
        ]
        return pages.render("figures-report", data, identity: context.identity, path: "/kennzahlen")
    }
}
