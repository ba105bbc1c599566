/// The figures laid out as the pages show them: one section per topic with a chart (SVG) and the
/// same values as a table. The dashboard and the print page share these.
struct FigureTable {
    var id: String
    var heading: String
    var keyHeader: String
    var columns: [String]
    var rows: [(label: String, cells: [String])]
    var chart: BarChart?
    var note: String?

    var values: [String: Any] {
        [
            "id": id, "heading": heading, "keyHeader": keyHeader, "columns": columns, "chart": chart?.svg as Any, "note": note as Any,
            "rows": rows.map { ["label": $0.label, "cells": $0.cells] },
        ]
    }

    /// The sections for one town or the whole district.
    static func sections(_ unit: UnitFigures, months: String) -> [FigureTable] {
        func breakdown(
            _ id: String,
            _ heading: String,
            _ key: String,
            _ counts: [String: FigureCount],
            _ labels: FigureLabels.Labelled,
            chart: Bool = true
        )
            -> FigureTable
        {
            let rows = labels.map { (label: $0.label, value: counts[$0.key] ?? .exact(0)) }
            return FigureTable(
                id: id,
                heading: heading,
                keyHeader: key,
                columns: ["Anzahl"],
                rows: rows.map { ($0.label, [$0.value.description]) },
                chart: chart
                    ? BarChart(
                        id: "chart-\(id)",
                        title: heading,
                        series: [.init(name: "Anzahl")],
                        rows: rows.map { .init(label: $0.label, values: [$0.value]) }
                    )
                    : nil
            )
        }
        let monthLabels = unit.months.map { Month(year: Int($0.month.prefix(4))!, month: Int($0.month.suffix(2))!).label }
        return [
            breakdown("phase", "Offene Fälle nach Phase", "Phase", unit.byPhase, FigureLabels.phases),
            breakdown("channel", "Offene Fälle nach Zugangsweg", "Zugangsweg", unit.byChannel, FigureLabels.channels),
            FigureTable(
                id: "target-group",
                heading: "Offene Fälle nach Zielgruppe",
                keyHeader: "Zielgruppe",
                columns: ["Anzahl"],
                rows: FigureLabels.targetGroups.map { ($0.label, [(unit.byTargetGroup[$0.key] ?? .exact(0)).description]) },
                chart: BarChart(
                    id: "chart-target-group",
                    title: "Offene Fälle nach Zielgruppe",
                    series: [.init(name: "Anzahl")],
                    rows: FigureLabels.targetGroups.map { .init(label: $0.label, values: [unit.byTargetGroup[$0.key] ?? .exact(0)]) }
                ),
                note: "Eine Person kann mehreren Zielgruppen angehören; die Summe kann daher größer sein als die Zahl der offenen Fälle."
            ),
            FigureTable(
                id: "months",
                heading: "Neue und abgeschlossene Fälle je Monat (\(months))",
                keyHeader: "Monat",
                columns: ["Neu", "Abgeschlossen", "Verweisungen", "Fallkonferenzen", "Systemprobleme gemeldet"],
                rows: zip(monthLabels, unit.months).map { label, month in
                    (label, [month.opened, month.closed, month.referrals, month.conferences, month.problemsRaised].map(\.description))
                },
                chart: BarChart(
                    id: "chart-months",
                    title: "Neue und abgeschlossene Fälle je Monat",
                    series: [.init(name: "Neu"), .init(name: "Abgeschlossen")],
                    rows: zip(monthLabels, unit.months).map { .init(label: $0, values: [$1.opened, $1.closed]) }
                )
            ),
            FigureTable(
                id: "referrals",
                heading: "Verweisungen nach Angebot (\(months))",
                keyHeader: "Angebot",
                columns: ["Verweisungen", "mit Rückmeldung", "Rückmeldequote"],
                rows: unit.referrals.map { ($0.name, [$0.sent.description, $0.withFeedback.description, $0.feedbackRate ?? "–"]) },
                chart: unit.referrals.isEmpty
                    ? nil
                    : BarChart(
                        id: "chart-referrals",
                        title: "Verweisungen nach Angebot",
                        series: [.init(name: "Verweisungen"), .init(name: "mit Rückmeldung")],
                        rows: unit.referrals.map { .init(label: $0.name, values: [$0.sent, $0.withFeedback]) }
                    ),
                note: unit.referrals.isEmpty ? "Keine Verweisungen in diesem Zeitraum." : nil
            ),
            breakdown("conferences", "Fallkonferenzen (\(months))", "Art", unit.conferences, FigureLabels.conferenceKinds, chart: false),
            breakdown("problem-level", "Offene Systemprobleme nach Ebene", "Ebene", unit.problemsByLevel, FigureLabels.levels),
            breakdown(
                "problem-category",
                "Offene Systemprobleme nach Kategorie",
                "Kategorie",
                unit.problemsByCategory,
                FigureLabels.categories,
                chart: false
            ),
            breakdown("problem-age", "Offene Systemprobleme nach Alter", "Alter", unit.problemsByAge, FigureLabels.ages, chart: false),
            breakdown("overdue", "Überfällige Vorgänge", "Vorgang", unit.overdue, FigureLabels.overdue),
        ]
    }

    /// Per town and for the district: caseload against funded posts, and the period's new and closed cases.
    static func overview(_ report: FiguresReport) -> FigureTable {
        FigureTable(
            id: "overview",
            heading: "Überblick je Ort",
            keyHeader: "Ort",
            columns: ["Offene Fälle", "Neu im Zeitraum", "Abgeschlossen im Zeitraum", "Stellenanteile CM (VZÄ)", "Offene Fälle je Vollzeitstelle"],
            rows: (report.units + [report.total]).map { unit in
                (
                    unit.name,
                    [
                        unit.openCases.description, unit.openedInPeriod.description, unit.closedInPeriod.description,
                        unit.fundedPosts.map { "\($0.replacingOccurrences(of: ".", with: ","))\(unit.fundedYear.map { " (\($0))" } ?? "")" } ?? "–",
                        unit.casesPerPost ?? "–",
                    ]
                )
            },
            chart: BarChart(
                id: "chart-overview",
                title: "Offene Fälle je Ort",
                series: [.init(name: "Offene Fälle")],
                rows: report.units.filter { $0.kind != "district" }.map { .init(label: $0.name, values: [$0.openCases]) }
            ),
            note: report.units.compactMap { unit in
                unit.caseManagementBy.map { "Das Fallmanagement für \(unit.name) führt \($0) durch; diese Fälle zählen für \(unit.name)." }
            }.joined(separator: " ")
        )
    }
}
