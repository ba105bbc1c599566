/// The half-year export for the state's programme controlling as CSV: one line per figure
/// (semicolon-separated, as German spreadsheets expect; UTF-8 with a byte order mark), made from
/// the already suppressed report, so "<5" appears here exactly as on the dashboard.
enum FiguresCSV {
    static let header = ["Kreis", "Halbjahr", "Ort", "Kennzahl", "Merkmal", "Monat", "Wert"]

    static func render(_ report: FiguresReport) -> String {
        var lines = [header]
        let period = report.period.halfYear ?? "\(report.period.from) bis \(report.period.to)"
        for unit in report.units + [report.total] {
            func line(_ figure: String, _ detail: String, _ month: String, _ value: String) {
                lines.append([report.districtName, period, unit.name, figure, detail, month, value])
            }
            func breakdown(_ figure: String, _ counts: [String: FigureCount], _ labels: FigureLabels.Labelled) {
                for entry in labels { line(figure, entry.label, "", (counts[entry.key] ?? .exact(0)).description) }
            }
            line("Offene Fälle (Stand)", "", "", unit.openCases.description)
            breakdown("Offene Fälle nach Phase", unit.byPhase, FigureLabels.phases)
            breakdown("Offene Fälle nach Zugangsweg", unit.byChannel, FigureLabels.channels)
            breakdown("Offene Fälle nach Zielgruppe", unit.byTargetGroup, FigureLabels.targetGroups)
            for month in unit.months {
                line("Neue Fälle", "", month.month, month.opened.description)
                line("Abgeschlossene Fälle", "", month.month, month.closed.description)
                line("Verweisungen", "", month.month, month.referrals.description)
                line("Fallkonferenzen", "", month.month, month.conferences.description)
                line("Gemeldete Systemprobleme", "", month.month, month.problemsRaised.description)
            }
            line("Neue Fälle im Halbjahr", "", "", unit.openedInPeriod.description)
            line("Abgeschlossene Fälle im Halbjahr", "", "", unit.closedInPeriod.description)
            for service in unit.referrals {
                line("Verweisungen nach Angebot", service.name, "", service.sent.description)
                line("Verweisungen mit Rückmeldung", service.name, "", service.withFeedback.description)
                line("Rückmeldequote", service.name, "", service.feedbackRate ?? "k. A.")
            }
            breakdown("Fallkonferenzen nach Art", unit.conferences, FigureLabels.conferenceKinds)
            breakdown("Offene Systemprobleme nach Ebene", unit.problemsByLevel, FigureLabels.levels)
            breakdown("Offene Systemprobleme nach Kategorie", unit.problemsByCategory, FigureLabels.categories)
            breakdown("Offene Systemprobleme nach Alter", unit.problemsByAge, FigureLabels.ages)
            breakdown("Überfällige Vorgänge", unit.overdue, FigureLabels.overdue)
            line("Stellenanteile Fallmanagement (VZÄ)", unit.fundedYear.map { "\($0)" } ?? "", "", unit.fundedPosts ?? "k. A.")
            line("Offene Fälle je Vollzeitstelle", "", "", unit.casesPerPost ?? "k. A.")
        }
        lines += report.evaluation.csvLines(district: report.districtName, period: period)
        return "\u{FEFF}" + lines.map { $0.map(field).joined(separator: ";") }.joined(separator: "\r\n") + "\r\n"
    }

    /// Quotes a field when it needs it; a leading =, +, - or @ is neutralised so that no spreadsheet runs it as a formula.
    static func field(_ text: String) -> String {
        var value = text
        if let first = value.first, "=+-@".contains(first) { value = "'" + value }
        guard value.contains(where: { ";\"\r\n".contains($0) }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
