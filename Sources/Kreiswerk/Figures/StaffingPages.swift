import Foundation
import Hummingbird

/// `/kennzahlen/personal`: the towns' funded shares, the coordination-post rule, and the allocation
/// key as a form (the total of funded posts and one refugee count per town).
struct StaffingPages {
    let staffing: Staffing
    let pages: Pages

    func register(on routes: GuardedRouter) {
        routes.get("/kennzahlen/personal", .viewDistrictFigures) { _, context in
            try await page(context)
        }
        routes.post("/kennzahlen/personal", .viewDistrictFigures) { _, context -> Response in
            let form = context.form
            let towns = try await staffing.towns(for: context.identity)
            var errors: [String: String] = [:]
            var entries: [AllocationRequest.Entry] = []
            for town in towns {
                let text = form["refugees_\(town.town)"].trimmingCharacters(in: .whitespaces).replacingOccurrences(of: ".", with: "")
                guard let count = Int(text.isEmpty ? "0" : text) else {
                    errors["refugees_\(town.town)"] = "Bitte für \(town.name) eine ganze Zahl angeben (0, wenn keine Geflüchteten zugewiesen sind)."
                    continue
                }
                entries.append(.init(town: town.town, refugees: count))
            }
            let yearText = form["year"].trimmingCharacters(in: .whitespaces)
            if !yearText.isEmpty, Int(yearText).map({ (2000...2100).contains($0) }) != true {
                errors["year"] = "Bitte das Jahr als vierstellige Zahl von 2000 bis 2100 angeben oder leer lassen (dann das nächste Jahr)."
            }
            do {
                guard errors.isEmpty else { throw InvalidInput(errors: errors) }
                let result = try await staffing.allocate(AllocationRequest(totalFte: form["total_fte"], towns: entries), for: context.identity)
                return try await page(context, form: form, result: result)
            } catch let error as InvalidInput {
                return try await page(context, form: form, errors: error, status: .unprocessableContent)
            }
        }
    }

    static func german(_ fte: String) -> String { fte.replacingOccurrences(of: ".", with: ",") }

    static func yesNo(_ value: Bool?) -> String { value.map { $0 ? "ja" : "nein" } ?? "nicht erfasst" }

    func page(
        _ context: SignedInContext,
        form: Form? = nil,
        result: AllocationResult? = nil,
        errors: InvalidInput? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let towns = try await staffing.towns(for: context.identity)
        let year = form.flatMap { Int($0["year"].trimmingCharacters(in: .whitespaces)) } ?? HalfYear(containing: .today).year + 1
        var data: [String: Any] = [
            "total": form?["total_fte"] ?? "", "year": form?["year"] ?? "", "nextYear": HalfYear(containing: .today).year + 1,
            "towns": towns.map { town in
                [
                    "slug": town.town, "name": town.name, "refugees": form?["refugees_\(town.town)"] ?? "",
                    "funded": town.fundedFte.map(Self.german) ?? "–", "year": town.fundedYear.map { "\($0)" } ?? "",
                    "abh": Self.yesNo(town.ownForeignersAuthority), "youth": Self.yesNo(town.ownYouthOffice),
                    "council": Self.yesNo(town.ownIntegrationCouncil), "entitled": Self.yesNo(town.entitledToCoordinationPost),
                    "error": errors?.errors["refugees_\(town.town)"] as Any,
                ] as [String: Any]
            },
        ]
        if let result {
            data["result"] =
                [
                    "total": Self.german(result.totalFte), "refugees": result.refugees, "year": year,
                    "lines": result.towns.map { line in
                        [
                            "name": line.name, "refugees": line.refugees, "proposed": Self.german(line.proposedFte),
                            "funded": line.fundedFte.map(Self.german) ?? "–", "year": line.fundedYear.map { "\($0)" } ?? "",
                            "difference": line.difference.map(Self.german) ?? "–", "entitled": Self.yesNo(line.entitledToCoordinationPost),
                            "decide":
                                "\(StaffingDecisionsPages.path)?jahr=\(year)&eintrag=\(line.town):case_management&vorschlag=\(line.proposedFte)#entscheidung",
                        ] as [String: Any]
                    },
                ] as [String: Any]
        }
        if let errors {
            let labels = Dictionary(uniqueKeysWithValues: towns.map { ("refugees_\($0.town)", "Geflüchtete \($0.name)") })
                .merging(["total_fte": "Geförderte Stellen insgesamt", "towns": "Städte", "year": "Jahr des Vorschlags"]) { $1 }
            data.merge(FormErrors.values(errors.errors, labels: labels)) { $1 }
        }
        return pages.render("staffing", data, identity: context.identity, path: "/kennzahlen", status: status)
    }
}
