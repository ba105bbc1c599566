import Foundation
import Hummingbird

/// `/meilensteine` (issue 21): the district's milestone plan, a table per building block with the half-years marked,
/// status, who and note; a filter by status; the counts of open and overdue tasks. The coordinators change a task with the
/// form of `?bearbeiten=ID` (POST `/meilensteine`) and add one (POST `/meilensteine/neu`); everyone else of the district reads.
struct MilestonesPages {
    let plan: MilestonePlan
    let pages: Pages

    static let path = "/meilensteine"
    static let labels: [String: String] = [
        "status": "Stand", "responsible": "Zuständig", "responsible_tenant": "Zuständiger Mandant", "note": "Notiz",
        "building_block": "Baustein", "heading": "Überschrift", "title": "Aufgabe", "half_years": "Halbjahre",
        "new_responsible": "Zuständig", "new_responsible_tenant": "Zuständiger Mandant", "new_note": "Notiz",
    ]

    func register(on routes: GuardedRouter) {
        routes.get(Self.path, .viewDocumentationStandard) { request, context in
            let query = request.uri.queryParameters
            return try await page(
                context,
                filter: query["stand"].map(String.init),
                editing: query["bearbeiten"].flatMap { UUID(uuidString: String($0)) },
                saved: query["gespeichert"].flatMap { UUID(uuidString: String($0)) },
                changed: query["geaendert"].map { $0.split(separator: ",").map(String.init) },
                added: query["hinzugefuegt"].flatMap { UUID(uuidString: String($0)) }
            )
        }
        routes.post(Self.path, .coordinateDistrict, use: save)
        routes.post("\(Self.path)/neu", .coordinateDistrict, use: add)
    }

    func save(_ request: Request, context: SignedInContext) async throws -> Response {
        let form = context.form
        guard let id = UUID(uuidString: form["id"]) else {
            return try await page(
                context,
                message: "Bitte die Aufgabe im Meilensteinplan wählen und dort „Bearbeiten“ nutzen.",
                status: .unprocessableContent
            )
        }
        do {
            let outcome = try await plan.update(
                id,
                ofDistrict: nil,
                MilestoneChange(
                    status: form["status"].isEmpty ? nil : form["status"],
                    responsible: .some(form["responsible"]),
                    responsibleTenant: .some(form["responsible_tenant"]),
                    note: .some(form["note"])
                ),
                version: Int(form["version"]),
                by: context.identity,
                clientAddress: context.clientAddress
            )
            let changed = outcome.changed.isEmpty ? "" : "&geaendert=\(outcome.changed.joined(separator: ","))"
            return .redirect(to: "\(Self.path)?gespeichert=\(id)\(changed)#aufgabe-\(id)", type: .normal)
        } catch let error as InvalidInput {
            return try await page(context, editing: id, form: form, errors: error.errors, status: .unprocessableContent)
        } catch DomainError.stale(let message) {
            return try await page(context, editing: id, message: message, status: .conflict)
        } catch DomainError.versionRequired(let message) {
            return try await page(context, editing: id, message: message, status: .preconditionRequired)
        }
    }

    func add(_ request: Request, context: SignedInContext) async throws -> Response {
        let form = context.form
        do {
            let task = try await plan.add(
                NewMilestoneTask(
                    buildingBlock: form["building_block"],
                    heading: form["heading"],
                    title: form["title"],
                    halfYears: form.all("half_years"),
                    responsible: form["responsible"],
                    responsibleTenant: form["responsible_tenant"],
                    note: form["note"]
                ),
                ofDistrict: nil,
                by: context.identity,
                clientAddress: context.clientAddress
            )
            return .redirect(to: "\(Self.path)?hinzugefuegt=\(task.id)#aufgabe-\(task.id)", type: .normal)
        } catch let error as InvalidInput {
            // The add form's own fields for who and note (the task form on the same page has fields of these names).
            let errors = Dictionary(
                uniqueKeysWithValues: error.errors.map { field, message in
                    (["responsible", "responsible_tenant", "note"].contains(field) ? "new_\(field)" : field, message)
                }
            )
            return try await page(context, newForm: form, errors: errors, status: .unprocessableContent)
        }
    }

    static func halfYearLabel(_ text: String) -> String {
        HalfYear(text).map { "\($0.half). HJ \($0.year)" } ?? text
    }

    static func who(_ task: MilestoneTask) -> String? {
        let parts = [task.responsible, task.responsibleTenantName].compactMap { $0 }
        return parts.isEmpty ? nil : parts.joined(separator: ", ")
    }

    /// What the notice says after a change: the fields that changed with their new values.
    static func notice(saved task: MilestoneTask, changed: [String]) -> String {
        guard !changed.isEmpty else { return "Keine Änderung an „\(task.title)“: alles war schon so eingetragen." }
        let parts = changed.compactMap { field -> String? in
            switch field {
            case "status": "Stand jetzt „\(task.statusLabel)“"
            case "responsible": task.responsible.map { "zuständig jetzt „\($0)“" } ?? "„Zuständig“ geleert"
            case "responsible_tenant": task.responsibleTenantName.map { "zuständiger Mandant jetzt \($0)" } ?? "zuständiger Mandant entfernt"
            case "note": task.note.map { "Notiz jetzt „\($0)“" } ?? "Notiz gelöscht"
            default: nil
            }
        }
        return "Gespeichert: „\(task.title)“ – \(parts.joined(separator: ", "))."
    }

    func page(
        _ context: SignedInContext,
        filter: String? = nil,
        editing: UUID? = nil,
        saved: UUID? = nil,
        changed: [String]? = nil,
        added: UUID? = nil,
        form: Form? = nil,
        newForm: Form? = nil,
        message: String? = nil,
        errors: [String: String] = [:],
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let today = Day.today
        let (view, tenants) = try await plan.page(by: context.identity, clientAddress: context.clientAddress, asOf: today)
        let keeps = plan.keeps(context.identity)
        let filterStatus = filter.flatMap(MilestoneStatus.init(rawValue:))
        let onlyOverdue = filter == "overdue"
        let shown = view.tasks.filter { task in
            if onlyOverdue { return task.overdue }
            return filterStatus.map { $0.rawValue == task.status } ?? true
        }
        let halfYears = view.halfYears
        var blocks: [[String: Any]] = []
        for block in BuildingBlock.allCases {
            let tasks = shown.filter { $0.buildingBlock == block.rawValue }
            guard !tasks.isEmpty else { continue }
            var groups: [[String: Any]] = []
            for task in tasks {
                let row: [String: Any] = [
                    "id": task.id.uuidString, "title": task.title, "status": task.statusLabel, "overdue": task.overdue,
                    "who": Self.who(task) as Any, "note": task.note as Any, "changedBy": task.changedBy as Any,
                    "cells": halfYears.map { half -> [String: Any] in
                        ["planned": task.halfYears.contains(half), "label": Self.halfYearLabel(half)]
                    },
                    "edit": keeps ? "\(Self.path)?bearbeiten=\(task.id)#bearbeiten" as Any : nil as String? as Any,
                ]
                if var last = groups.last, (last["heading"] as? String) == task.heading {
                    last["rows"] = (last["rows"] as? [[String: Any]] ?? []) + [row]
                    groups[groups.count - 1] = last
                } else {
                    groups.append(["heading": task.heading as Any, "rows": [row]])
                }
            }
            blocks.append([
                "label": block.label, "anchor": "baustein-\(block.rawValue)", "groups": groups, "count": tasks.count,
                "span": halfYears.count + 4 + (keeps ? 1 : 0),
            ])
        }
        var data: [String: Any] = [
            "districtName": view.districtName, "open": view.open, "overdue": view.overdue, "total": view.tasks.count,
            "asOf": Day(view.asOf)?.german ?? view.asOf, "keeps": keeps, "blocks": blocks, "hasBlocks": !blocks.isEmpty,
            "halfYears": halfYears.map { ["label": Self.halfYearLabel($0)] },
            "filters": [["value": "", "label": "alle", "selected": filter == nil || filter == ""]]
                + MilestoneStatus.allCases.map { ["value": $0.rawValue, "label": $0.label, "selected": filter == $0.rawValue] }
                + [["value": "overdue", "label": "überfällig", "selected": onlyOverdue]],
            "filtered": filterStatus != nil || onlyOverdue, "shownCount": shown.count,
        ]
        if keeps, let editing, let task = view.tasks.first(where: { $0.id == editing }) {
            let status = form.map { $0["status"] } ?? task.status
            let tenant = form.map { $0["responsible_tenant"] } ?? task.responsibleTenant ?? ""
            data["editing"] =
                [
                    "id": task.id.uuidString, "version": task.version, "title": task.title,
                    "statuses": MilestoneStatus.allCases.map { ["value": $0.rawValue, "label": $0.label, "selected": $0.rawValue == status] },
                    "tenants": tenants.map { ["value": $0.slug, "label": $0.name, "selected": $0.slug == tenant] },
                    "responsible": form.map { $0["responsible"] } ?? task.responsible ?? "",
                    "note": form.map { $0["note"] } ?? task.note ?? "",
                ] as [String: Any]
        }
        if keeps {
            let thisHalf = HalfYear(containing: today)
            let next = [thisHalf, HalfYear("\(thisHalf.half == 1 ? thisHalf.year : thisHalf.year + 1)-\(thisHalf.half == 1 ? 2 : 1)")!]
            let offered = Set(halfYears + next.map(\.description)).compactMap(HalfYear.init).sorted { ($0.year, $0.half) < ($1.year, $1.half) }
            let checked = Set(newForm?.all("half_years") ?? [])
            let block = newForm?["building_block"] ?? ""
            let tenant = newForm?["responsible_tenant"] ?? ""
            data["adding"] =
                [
                    "blocks": BuildingBlock.allCases.map { ["value": $0.rawValue, "label": $0.label, "selected": $0.rawValue == block] },
                    "halfYears": offered.map { ["value": $0.description, "label": $0.label, "checked": checked.contains($0.description)] },
                    "headings": Array(Set(view.tasks.compactMap(\.heading))).sorted(),
                    "tenants": tenants.map { ["value": $0.slug, "label": $0.name, "selected": $0.slug == tenant] },
                    "heading": newForm?["heading"] ?? "", "title": newForm?["title"] ?? "", "responsible": newForm?["responsible"] ?? "",
                    "note": newForm?["note"] ?? "",
                ] as [String: Any]
        }
        if let saved, let task = view.tasks.first(where: { $0.id == saved }) {
            data["notice"] = Self.notice(saved: task, changed: changed ?? [])
        }
        if let added, let task = view.tasks.first(where: { $0.id == added }) {
            let halves = task.halfYears.map(Self.halfYearLabel).joined(separator: ", ")
            data["notice"] = "Aufgabe hinzugefügt: „\(task.title)“ (Baustein \(task.buildingBlock), \(halves), Stand „\(task.statusLabel)“)."
        }
        data.merge(FormErrors.values(errors, labels: Self.labels)) { $1 }
        if let message { data["message"] = message }
        return pages.render("milestones", data, identity: context.identity, path: Self.path, status: status)
    }
}
