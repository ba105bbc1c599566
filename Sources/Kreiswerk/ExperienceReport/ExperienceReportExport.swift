import Foundation

/// The released report as the state receives it, as Markdown (readable as plain text): the narrative sections, each
/// followed by its figure tables — only counts, suppressed as on every figures page ("<5", "."), no client's name. The
/// releasing coordinator is named as the one responsible for the report; nobody else.
enum ExperienceReportExport {
    static func fileName(_ report: ExperienceReport) -> String {
        "erfahrungsbericht-\(report.district)-\(report.period).md"
    }

    static func markdown(_ report: ExperienceReport) -> String {
        var lines = [
            "# Erfahrungsbericht \(report.periodLabel): \(report.districtName)",
            "",
            "Kommunales Integrationsmanagement · Bericht der Koordinierungsstelle für das Land",
            "",
            "- Kreis: \(report.districtName)",
            "- Zeitraum: \(report.periodLabel) (\(report.period))",
        ]
        if let releasedAt = report.releasedAt {
            lines.append("- Freigegeben am \(GermanFormat.date(releasedAt))\(report.releasedBy.map { " von \($0) (Koordinierungsstelle)" } ?? "")")
        }
        if let figures = report.figures {
            lines.append("- Datenstand der Kennzahlen: \(GermanFormat.dateTime(figures.computedAt))")
            lines.append(
                "- Datenschutz: nur Anzahlen; Anzahlen von 1 bis \(figures.threshold - 1) als „<\(figures.threshold)“, "
                    + "weitere Anzahlen gesperrt („.“), damit sich keine aus Summen errechnen lässt."
            )
        }
        for section in ReportSection.allCases {
            lines += ["", "## \(section.heading)", ""]
            lines.append(report.sections[section.rawValue] ?? "(kein Text)")
            for table in report.figures?.tables(for: section) ?? [] {
                lines += ["", "### \(table.heading)", ""]
                lines.append("| " + ([table.keyHeader] + table.columns).map(cell).joined(separator: " | ") + " |")
                lines.append("|" + ([":--"] + table.columns.map { _ in "--:" }).joined(separator: "|") + "|")
                for row in table.rows { lines.append("| " + ([row.label] + row.cells).map(cell).joined(separator: " | ") + " |") }
                if let note = table.note { lines += ["", note] }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A table cell: a pipe or a line break would break the table.
    static func cell(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
    }
}
