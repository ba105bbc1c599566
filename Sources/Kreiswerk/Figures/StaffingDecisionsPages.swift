import Foundation
import Hummingbird

/// `/kennzahlen/personal/entscheidungen` (issue 19): per year the posts of every tenant of the district — the tenant file's
/// share, the allocation key's proposal and the district's decision with its reason — the waivers, the form a coordinator
/// records a decision with, and every tenant's posts year by year on the same page.
struct StaffingDecisionsPages {
    let decisions: StaffingDecisions
    let pages: Pages

    static let path = "/kennzahlen/personal/entscheidungen"
    static let labels: [String: String] = [
        "subject": "Mandant und Programm", "year": "Jahr", "proposed_fte": "Vorschlag", "decided_fte": "Entscheidung", "reason": "Begründung",
    ]

    func register(on routes: GuardedRouter) {
        routes.get(Self.path, .viewDistrictFigures) { request, context in
            let query = request.uri.queryParameters
            return try await page(
                context,
                year: query["jahr"].flatMap { Int(String($0)) },
                chosen: query["eintrag"].map(String.init),
                proposal: query["vorschlag"].map(String.init),
                saved: query["gespeichert"].map(String.init)
            )
        }
        routes.post(Self.path, .coordinateDistrict) { _, context -> Response in
            let form = context.form
            let year = Int(form["year"].trimmingCharacters(in: .whitespaces))
            let subject = form["subject"].split(separator: "|").map(String.init)
            do {
                guard subject.count == 3 else {
                    var errors = [
                        "subject": "Bitte wählen, für welchen Mandanten und welches Programm Sie die Entscheidung eintragen."
                    ]
                    do {
                        _ = try StaffingDecisions.checked(
                            StaffingDecisionRequest(
                                programme: StaffProgramme.caseManagement.rawValue,
                                year: year,
                                proposedFte: form["proposed_fte"],
                                decidedFte: form["decided_fte"],
                                reason: form["reason"]
                            )
                        )
                    } catch let error as InvalidInput { errors.merge(error.errors) { first, _ in first } }
                    throw InvalidInput(errors: errors)
                }
                let entry = try await decisions.decide(
                    subject[0],
                    StaffingDecisionRequest(
                        programme: subject[1],
                        year: year,
                        proposedFte: form["proposed_fte"],
                        decidedFte: form["decided_fte"],
                        reason: form["reason"]
                    ),
                    version: Int(subject[2]),
                    by: context.identity,
                    clientAddress: context.clientAddress
                )
                return .redirect(to: "\(Self.path)?jahr=\(entry.year)&gespeichert=\(entry.tenant):\(entry.programme)", type: .normal)
            } catch let error as InvalidInput {
                var errors = error.errors
                if let message = errors.removeValue(forKey: "programme") { errors["subject"] = message }
                return try await page(context, year: year, form: form, errors: errors, status: .unprocessableContent)
            } catch DomainError.stale(let message) {
                return try await page(context, year: year, message: message, status: .preconditionFailed)
            } catch DomainError.versionRequired(let message) {
                return try await page(context, year: year, message: message, status: .preconditionRequired)
            }
        }
    }

    static func german(_ fte: String?) -> String? { fte.map { $0.replacingOccurrences(of: ".", with: ",") } }

    static func kindLabel(_ kind: String) -> String {
        ["district": "Kreis", "municipality": "Stadt", "carrier": "Träger", "authority": "Behörde"][kind] ?? kind
    }

    static func programmeLabel(_ programme: String) -> String {
        StaffProgramme(rawValue: programme).map(TenantOnboarding.programmeLabel) ?? programme
    }

    static let groupLabels: [String: String] = [
        "coordination": "Koordinierungsstellen des Kreises", "assistance": "Assistenz der Koordinierung",
        "towns": "Case Management in den Städten", "carriers": "Case Management bei Trägern der Freien Wohlfahrtspflege",
        "immigration_office": "Zusätzliche Stellen in der Ausländerbehörde", "other": "Weiteres Case Management",
    ]

    /// The programmes a tenant of this kind is usually funded for: what the form offers beside the entries already there.
    static func programmes(for tenant: StaffingTenant) -> [StaffProgramme] {
        switch tenant.kind {
        case "district": [.coordination, .assistance]
        case "municipality": tenant.entitledToCoordinationPost == true ? [.caseManagement, .coordination] : [.caseManagement]
        case "carrier": [.caseManagement]
        default: [.immigrationOffice]
        }
    }

    func page(
        _ context: SignedInContext,
        year requested: Int?,
        chosen: String? = nil,
        proposal: String? = nil,
        saved: String? = nil,
        form: Form? = nil,
        message: String? = nil,
        errors: [String: String] = [:],
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let plan = try await decisions.plan(by: context.identity, clientAddress: context.clientAddress)
        let thisYear = HalfYear(containing: .today).year
        let years = Array(Set(plan.years + [thisYear, thisYear + 1, (plan.years.last ?? thisYear) + 1])).sorted()
        let year = requested.flatMap { (2000...2100).contains($0) ? $0 : nil } ?? plan.years.last ?? thisYear
        let entries = plan.entries.filter { $0.year == year }
        let decides = decisions.decides(context.identity)
        var data: [String: Any] = [
            "year": year, "decides": decides,
            "years": (Array(Set(years + [year])).sorted()).map { ["value": $0, "current": $0 == year] as [String: Any] },
            "rows": entries.map { entry in
                [
                    "name": entry.name, "kind": Self.kindLabel(entry.kind), "programme": Self.programmeLabel(entry.programme),
                    "file": Self.german(entry.fileFte) ?? "–", "proposed": Self.german(entry.proposedFte) ?? "–",
                    "decided": Self.german(entry.decidedFte) ?? "–", "reason": entry.reason as Any, "decidedBy": entry.decidedBy as Any,
                    "decidedOn": entry.decidedOn as Any, "differs": entry.proposedFte != nil && entry.proposedFte != entry.decidedFte,
                    "link": "\(Self.path)?jahr=\(year)&eintrag=\(entry.tenant):\(entry.programme)#entscheidung",
                ] as [String: Any]
            },
            "hasRows": !entries.isEmpty,
            "totals": plan.totals.filter { $0.year == year }.map {
                ["label": Self.groupLabels[$0.group] ?? $0.group, "fte": Self.german($0.fte) ?? "–"] as [String: Any]
            },
            "hasTotals": plan.totals.contains { $0.year == year }, "hasWaivers": !plan.waivers.isEmpty,
            "waivers": plan.waivers.map { ["name": $0.name, "programme": Self.programmeLabel($0.programme), "reason": $0.reason] },
            "historyYears": plan.years,
            "history": history(plan),
        ]
        if decides {
            let picked = form.map { $0["subject"] }
            var options: [[String: Any]] = []
            var seen: Set<String> = []
            for tenant in plan.tenants {
                let existing = entries.filter { $0.tenant == tenant.tenant }
                let programmes = Set(existing.map(\.programme)).union(Self.programmes(for: tenant).map(\.rawValue)).sorted()
                for programme in programmes where seen.insert("\(tenant.tenant):\(programme)").inserted {
                    let version = existing.first { $0.programme == programme }?.version ?? 0
                    let value = "\(tenant.tenant)|\(programme)|\(version)"
                    options.append([
                        "value": value, "label": "\(tenant.name) – \(Self.programmeLabel(programme))",
                        "selected": picked.map { $0 == value } ?? (chosen == "\(tenant.tenant):\(programme)"),
                    ])
                }
            }
            let chosenEntry = entries.first { "\($0.tenant):\($0.programme)" == chosen }
            data["options"] = options
            let carried = chosen == nil ? nil : proposal.flatMap { FullTimeEquivalent($0) }.map { Self.german(Staffing.format($0)) }
            data["proposedValue"] = form?["proposed_fte"] ?? carried ?? Self.german(chosenEntry?.proposedFte) ?? ""
            data["decidedValue"] = form?["decided_fte"] ?? Self.german(chosenEntry?.decidedFte) ?? ""
            data["reasonValue"] = form?["reason"] ?? chosenEntry?.reason ?? ""
        }
        if let saved, let entry = entries.first(where: { "\($0.tenant):\($0.programme)" == saved }), let decided = Self.german(entry.decidedFte) {
            let proposal = Self.german(entry.proposedFte).map { ", Vorschlag \($0)" } ?? ""
            data["notice"] =
                "Entscheidung gespeichert: \(entry.name), \(Self.programmeLabel(entry.programme)), \(year): \(decided) Stellen\(proposal)."
        }
        data.merge(FormErrors.values(errors, labels: Self.labels)) { $1 }
        if let message { data["message"] = message }
        return pages.render("staffing-decisions", data, identity: context.identity, path: "/kennzahlen", status: status)
    }

    /// Every tenant's posts year by year: one row per tenant and programme, one cell per year (what applies).
    func history(_ plan: StaffingPlan) -> [[String: Any]] {
        var rows: [[String: Any]] = []
        for tenant in plan.tenants {
            let own = plan.entries.filter { $0.tenant == tenant.tenant }
            for programme in Set(own.map(\.programme)).sorted() {
                let cells = plan.years.map { year -> [String: Any] in
                    let entry = own.first { $0.year == year && $0.programme == programme }
                    return ["fte": Self.german(entry?.fte) ?? "–", "decided": entry?.decidedFte != nil]
                }
                rows.append(["name": tenant.name, "programme": Self.programmeLabel(programme), "cells": cells])
            }
        }
        return rows
    }
}
