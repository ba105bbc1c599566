import Foundation
import Hummingbird

/// The experience reports in the browser: `/erfahrungsberichte` (the district's reports by half-year; a coordinator
/// starts one), `/erfahrungsberichte/{period}` (each section's text beside the figures that concern it; save, release
/// with a confirmation), and for a released report its print page (`…/druck`) and its download (`…/download`, Markdown).
struct ExperienceReportPages {
    let reports: ExperienceReports
    let pages: Pages

    static let templates = ["experience-reports", "experience-report", "experience-report-print"]
    static let path = "/erfahrungsberichte"
    static var labels: [String: String] {
        var labels = Dictionary(uniqueKeysWithValues: ReportSection.allCases.map { ($0.rawValue, $0.heading) })
        labels["period"] = "Halbjahr"
        labels["halbjahr"] = "Halbjahr"
        labels["sections"] = "Abschnitte"
        labels["confirm"] = "Bestätigung"
        return labels
    }

    func register(on routes: GuardedRouter) {
        routes.get(Self.path, .viewDistrictFigures) { _, context in try await listPage(context) }
        routes.post(Self.path, .coordinateDistrict) { _, context -> Response in
            let form = context.form
            do {
                guard !form["halbjahr"].isEmpty else {
                    throw InvalidInput(field: "halbjahr", "Bitte wählen, für welches Halbjahr Sie den Erfahrungsbericht beginnen.")
                }
                let report = try await reports.start(form["halbjahr"], by: context.identity, clientAddress: context.clientAddress)
                return .redirect(to: "\(Self.path)/\(report.period)?begonnen=1", type: .normal)
            } catch let error as InvalidInput {
                var errors = error.errors
                if let message = errors.removeValue(forKey: "period") { errors["halbjahr"] = message }
                return try await listPage(context, errors: errors, status: .unprocessableContent)
            }
        }
        routes.get("\(Self.path)/{period}", .viewDistrictFigures) { request, context in
            let query = request.uri.queryParameters
            let notice: Notice? =
                query["gespeichert"] != nil ? .saved : query["freigegeben"] != nil ? .released : query["begonnen"] != nil ? .started : nil
            return try await reportPage(context, notice: notice)
        }
        routes.post("\(Self.path)/{period}", .coordinateDistrict) { _, context -> Response in
            let form = context.form
            let period = try context.parameters.decoded("period")
            let sections = Dictionary(uniqueKeysWithValues: ReportSection.allCases.map { ($0.rawValue, form.raw($0.rawValue) as String?) })
            do {
                let report = try await reports.save(
                    period,
                    ExperienceReportRequest(sections: sections),
                    version: Int(form["version"]),
                    by: context.identity,
                    clientAddress: context.clientAddress
                )
                return .redirect(to: "\(Self.path)/\(report.period)?gespeichert=\(report.version)#speichern", type: .normal)
            } catch let error as InvalidInput {
                return try await reportPage(context, form: form, errors: error.errors, status: .unprocessableContent)
            } catch DomainError.stale(let message), DomainError.versionRequired(let message) {
                // The other coordinator's text is shown beside each section; the text typed here stays in the fields.
                return try await reportPage(context, form: form, message: message, conflict: true, status: .conflict)
            } catch DomainError.conflict(let message) {
                return try await reportPage(context, message: message, status: .conflict)
            }
        }
        routes.post("\(Self.path)/{period}/freigabe", .coordinateDistrict) { _, context -> Response in
            let form = context.form
            let period = try context.parameters.decoded("period")
            do {
                guard form["confirm"] == "ja" else {
                    throw InvalidInput(
                        field: "confirm",
                        "Bitte bestätigen, dass die Kennzahlen mit der Freigabe eingefroren werden und der Bericht danach nicht mehr geändert wird."
                    )
                }
                let report = try await reports.release(
                    period,
                    version: Int(form["version"]),
                    by: context.identity,
                    clientAddress: context.clientAddress
                )
                return .redirect(to: "\(Self.path)/\(report.period)?freigegeben=1", type: .normal)
            } catch let error as InvalidInput {
                return try await reportPage(context, errors: error.errors, status: .unprocessableContent)
            } catch DomainError.stale(let message), DomainError.versionRequired(let message), DomainError.conflict(let message) {
                return try await reportPage(context, message: message, status: .conflict)
            }
        }
        routes.get("\(Self.path)/{period}/druck", .viewDistrictFigures) { _, context in
            let report = try await exported(context, format: "print")
            var data = Self.values(report)
            data["today"] = GermanFormat.date(Date())
            return pages.render("experience-report-print", data, identity: context.identity, path: Self.path)
        }
        routes.get("\(Self.path)/{period}/download", .viewDistrictFigures) { _, context in
            let report = try await exported(context, format: "markdown")
            return Response(
                status: .ok,
                headers: [
                    .contentType: "text/markdown; charset=utf-8", .cacheControl: "no-store",
                    .contentDisposition: "attachment; filename=\"\(ExperienceReportExport.fileName(report))\"",
                ],
                body: .init(byteBuffer: ByteBuffer(string: ExperienceReportExport.markdown(report)))
            )
        }
    }

    enum Notice { case started, saved, released }

    /// The released report of the path's period, as exported in `format` (recorded in the audit trail).
    func exported(_ context: SignedInContext, format: String) async throws -> ExperienceReport {
        try await reports.export(try context.parameters.decoded("period"), format: format, by: context.identity, clientAddress: context.clientAddress)
    }

    func listPage(_ context: SignedInContext, errors: [String: String] = [:], status: HTTPResponse.Status = .ok) async throws -> Response {
        let list = try await reports.list(by: context.identity, clientAddress: context.clientAddress)
        // The obvious default is the last completed half-year (the one a report is usually written for), if it has none yet.
        let lastCompleted = ExperienceReports.recent(.today)[1].description
        var data: [String: Any] = [
            "districtName": list.districtName,
            "reports": list.reports.map { report in
                [
                    "href": "\(Self.path)/\(report.period)", "periodLabel": report.periodLabel, "released": report.state == "released",
                    "draftedBy": report.draftedBy as Any, "updatedAt": GermanFormat.dateTime(report.updatedAt),
                    "releasedAt": report.releasedAt.map(GermanFormat.date) as Any, "releasedBy": report.releasedBy as Any,
                ] as [String: Any]
            },
            "hasReports": !list.reports.isEmpty,
            "writes": reports.writes(context.identity),
            "startable": list.startable.compactMap(HalfYear.init).map { halfYear in
                ["value": halfYear.description, "label": halfYear.label, "selected": halfYear.description == lastCompleted] as [String: Any]
            },
            "canStart": !list.startable.isEmpty,
        ]
        data.merge(FormErrors.values(errors, labels: Self.labels)) { $1 }
        return pages.render("experience-reports", data, identity: context.identity, path: Self.path, status: status)
    }

    /// The page's values of a report: its facts, and per section its text (as paragraphs) and its figure tables.
    static func values(_ report: ExperienceReport) -> [String: Any] {
        [
            "districtName": report.districtName, "period": report.period, "periodLabel": report.periodLabel, "released": report.released,
            "version": report.version, "draftedBy": report.draftedBy as Any, "updatedBy": report.updatedBy as Any,
            "updatedAt": GermanFormat.dateTime(report.updatedAt), "releasedBy": report.releasedBy as Any,
            "releasedAt": report.releasedAt.map(GermanFormat.dateTime) as Any,
            "stand": report.figures.map { GermanFormat.dateTime($0.computedAt) } as Any,
            "threshold": report.figures?.threshold as Any, "belowThreshold": report.figures.map { $0.threshold - 1 } as Any,
            "noFigures": report.figures == nil,
            "sections": ReportSection.allCases.map { section in
                [
                    "key": section.rawValue, "heading": section.heading, "hint": section.hint,
                    "paragraphs": HandbookPages.paragraphs(report.sections[section.rawValue] ?? ""),
                    "tables": (report.figures?.tables(for: section) ?? []).map(tableValues),
                ] as [String: Any]
            },
        ]
    }

    /// A table as `figures-section` lays it out (without a chart).
    static func tableValues(_ table: ReportFigures.Table) -> [String: Any] {
        [
            "id": table.id, "heading": table.heading, "keyHeader": table.keyHeader, "columns": table.columns, "note": table.note as Any,
            "rows": table.rows.map { ["label": $0.label, "cells": $0.cells] },
        ]
    }

    func reportPage(
        _ context: SignedInContext,
        notice: Notice? = nil,
        form: Form? = nil,
        message: String? = nil,
        conflict: Bool = false,
        errors: [String: String] = [:],
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let report = try await reports.report(try context.parameters.decoded("period"), by: context.identity, clientAddress: context.clientAddress)
        var data = Self.values(report)
        let edits = reports.writes(context.identity) && !report.released
        data["edits"] = edits
        data["sections"] = ReportSection.allCases.enumerated().map { index, section -> [String: Any] in
            var values = (data["sections"] as! [[String: Any]])[index]
            let saved = report.sections[section.rawValue]
            values["text"] = form.map { $0.raw(section.rawValue) } ?? saved ?? ""
            // After a conflict: what the other coordinator saved, where it differs from the text typed here.
            if conflict, let form, (saved ?? "") != form[section.rawValue] {
                values["savedText"] = saved ?? "(leer)"
            }
            values["error"] = errors[section.rawValue] as Any
            return values
        }
        // The current half-year is released after its end, when its figures are complete.
        if HalfYear(report.period) == HalfYear(containing: .today) { data["running"] = true }
        switch notice {
        case .started?:
            data["notice"] =
                "Begonnen: Der Entwurf des Erfahrungsberichts \(report.periodLabel) ist angelegt. Schreiben Sie die Abschnitte und speichern Sie zwischendurch."
        case .saved?:
            data["notice"] =
                "Gespeichert um \(GermanFormat.formatter("HH:mm").string(from: report.updatedAt)) Uhr (Fassung \(report.version)). Freigegeben ist der Bericht damit noch nicht."
        case .released?:
            data["notice"] =
                "Freigegeben: Der Erfahrungsbericht \(report.periodLabel) ist endgültig, seine Kennzahlen sind mit Datenstand \(data["stand"] as? String ?? "–") eingefroren. Sie können ihn jetzt drucken oder herunterladen und an das Land senden."
        case nil:
            break
        }
        data.merge(FormErrors.values(errors, labels: Self.labels)) { $1 }
        if let message { data["message"] = message }
        return pages.render("experience-report", data, identity: context.identity, path: Self.path, status: status)
    }
}
