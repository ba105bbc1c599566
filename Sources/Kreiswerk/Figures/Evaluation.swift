import Foundation

/// Evaluation beyond counts (issue 21, "fortlaufende Prozessanalyse und Evaluation"): goal outcomes by area, routes
/// after the assessment, the new arrivals, open cases that lack what the documentation standard asks for their phase,
/// level-2 reports by constellation and reporter kind, durations (referral to the first answer,
/// intake to the first goal, time spent in each phase, an application's receipt to its decision), the Ausländerbehörde's
/// backlog and throughput, and the naturalisation campaign's counts — per town (or ABH) and for the district, on the
/// dashboard, in the half-year export and in the JSON.
///
/// Every count passes through the district's `Suppression` and then `ComplementarySuppression` over the relations these
/// tables publish (a row's total = Σ its parts, the district = Σ the units, the decisions of the months = Σ the
/// decisions by kind). A mean duration or a rate rests on counts: it is shown only while they are.
public struct Evaluation: Sendable, Encodable {
    /// The tables of one town, ABH or of the whole district.
    public struct UnitTables: Sendable, Encodable {
        public var slug: String
        public var name: String
        public var tables: [EvaluationTable]
    }

    public var units: [UnitTables] = []
    public var total: UnitTables?

    /// The tables of the unit `slug` (the district's when it is the district total's or unknown).
    func tables(for slug: String) -> [EvaluationTable] {
        (units.first { $0.slug == slug } ?? total)?.tables ?? []
    }
}

/// One evaluation table: rows (areas, services, kinds, months) of counts, and values derived from them.
public struct EvaluationTable: Sendable, Encodable {
    public struct Row: Sendable, Encodable {
        public var key: String
        public var label: String
        public var counts: [FigureCount]
        /// A rate ("40 %") or a mean in days ("12,5"); nil when a count it rests on is hidden or there is nothing to divide by.
        public var derived: [String?]
    }

    public var id: String
    public var heading: String
    public var keyHeader: String
    public var columns: [String]
    public var derivedColumns: [String]
    public var rows: [Row]
    public var note: String?
    /// Counts of single months, published in every period that covers them: protected from their month's relations alone.
    var monthly = false
    /// The count column that is the sum of the row's other counts.
    var totalColumn: Int?
    /// Per derived column, the count columns it rests on.
    var derivedFrom: [[Int]] = []

    enum CodingKeys: String, CodingKey { case id, heading, keyHeader, columns, derivedColumns, rows, note }

    /// Whether the table has anything to say for its unit (a town has no register; the ABH no cases).
    var isEmpty: Bool { rows.allSatisfy { $0.counts.allSatisfy { $0 == .exact(0) } } }

    /// The table as the figures pages lay out a section (`figures-section`).
    var section: FigureTable {
        FigureTable(
            id: id,
            heading: heading,
            keyHeader: keyHeader,
            columns: columns + derivedColumns,
            rows: rows.map { ($0.label, $0.counts.map(\.description) + $0.derived.map { $0 ?? "–" }) },
            chart: nil,
            note: note
        )
    }
}

extension Evaluation {
    /// Labels of the evaluation's categories.
    static let outcomes: FigureLabels.Labelled = GoalOutcome.allCases.map { ($0.rawValue, $0.label) }
    static let areas: FigureLabels.Labelled = GoalArea.allCases.map { ($0.rawValue, $0.label) }
    static let routes: FigureLabels.Labelled = CaseRoute.allCases.map { ($0.rawValue, $0.label) }
    static let constellations: FigureLabels.Labelled = Complexity.allCases.map { ($0.rawValue, $0.label) }
    static let applicationKinds: FigureLabels.Labelled = [
        ("section_25a", "§ 25a AufenthG"), ("section_25b", "§ 25b AufenthG"), ("section_104c", "§ 104c AufenthG"),
        ("naturalisation", "Einbürgerung (§ 10 StAG)"),
    ]
    static let decisions: FigureLabels.Labelled = [("granted", "bewilligt"), ("refused", "abgelehnt"), ("withdrawn", "zurückgenommen")]

    /// The evaluation of every unit and of the district from the snapshot's exact tallies, suppressed.
    static func build(
        tallies: [UUID: FiguresReport.Tally],
        total: FiguresReport.Tally,
        units: [FiguresReport.Unit],
        district: FiguresReport.Unit,
        services: [(key: String, name: String)],
        months: [Month],
        period: String,
        suppression: Suppression
    ) -> Evaluation {
        let days = months.map(\.firstDay)
        // The same rows for every unit, so that the district's row is the sum of the units' rows.
        let answered = Set(total.keys("referrals_answered").filter { total.value("referrals_answered", $0, months: days) > 0 })
        let rowServices = services.filter { answered.contains($0.key) }
        func tables(_ tally: FiguresReport.Tally) -> [EvaluationTable] {
            Self.tables(tally, services: rowServices, months: months, period: period, suppression: suppression)
        }
        var evaluation = Evaluation(
            units: units.map { UnitTables(slug: $0.slug, name: $0.name, tables: tables(tallies[$0.id] ?? .init())) },
            total: UnitTables(slug: district.slug, name: "\(district.name) (gesamt)", tables: tables(total))
        )
        evaluation.withholdComplements(threshold: suppression.threshold)
        return evaluation
    }

    /// A mean of `sum` days over `count`, one decimal ("12,5"); nil when the count is suppressed or zero.
    static func mean(_ sum: Int, over count: Int, _ suppression: Suppression) -> String? {
        guard count > 0, suppression.count(count).shown != nil else { return nil }
        let tenths = Int((Double(sum) * 10 / Double(count)).rounded())
        return "\(tenths / 10),\(tenths % 10)"
    }

    static func tables(
        _ tally: FiguresReport.Tally,
        services: [(key: String, name: String)],
        months: [Month],
        period: String,
        suppression: Suppression
    ) -> [EvaluationTable] {
        let days = months.map(\.firstDay)
        func value(_ measure: String, _ key: String) -> Int { tally.value(measure, key, months: days) }
        func row(_ key: String, _ label: String, _ raw: [Int], _ derived: [String?] = []) -> EvaluationTable.Row {
            .init(key: key, label: label, counts: raw.map(suppression.count), derived: derived)
        }
        let goals = areas.map { area -> EvaluationTable.Row in
            let raw = outcomes.map { value("goal_outcomes", "\(area.key):\($0.key)") }
            let reviewed = raw.reduce(0, +)
            return row(area.key, area.label, raw + [reviewed], [suppression.rate(raw[0], of: reviewed)])
        }
        let durations =
            [
                row(
                    "first_goal",
                    "Aufnahme bis zur ersten Zielvereinbarung",
                    [value("first_goal_cases", "")],
                    [
                        mean(value("first_goal_days", ""), over: value("first_goal_cases", ""), suppression)
                    ]
                )
            ]
            + FigureLabels.phases.map { phase in
                let left = value("phase_left", phase.key)
                return row(phase.key, "In der Phase „\(phase.label)“", [left], [mean(value("phase_days", phase.key), over: left, suppression)])
            }
        let decided = applicationKinds.map { kind -> EvaluationTable.Row in
            let raw = decisions.map { value("abh_decided", "\(kind.key):\($0.key)") }
            let all = raw.reduce(0, +)
            return row(kind.key, kind.label, raw + [all], [mean(value("abh_decision_days", kind.key), over: all, suppression)])
        }
        return [
            EvaluationTable(
                id: "goal-outcomes",
                heading: "Ziele nach Bereich und Ergebnis (\(period))",
                keyHeader: "Bereich",
                columns: outcomes.map(\.label) + ["überprüft gesamt"],
                derivedColumns: ["Anteil erreicht"],
                rows: goals,
                note: "Ziele, deren Überprüfung im Zeitraum das Ergebnis festgehalten hat.",
                totalColumn: outcomes.count,
                derivedFrom: [[0, outcomes.count]]
            ),
            EvaluationTable(
                id: "routes",
                heading: "Wege nach der Bedarfsklärung (\(period))",
                keyHeader: "Weg",
                columns: ["Fälle"],
                derivedColumns: [],
                rows: routes.map { row($0.key, $0.label, [value("routes", $0.key)]) },
                note: "Fälle, die im Zeitraum aufgenommen wurden, nach dem Weg, der nach der Bedarfsklärung gewählt wurde."
            ),
            EvaluationTable(
                id: "new-arrivals",
                heading: "Zielgruppe Neuzugewanderte",
                keyHeader: "Zahl",
                columns: ["Fälle"],
                derivedColumns: [],
                rows: [
                    row("open", "offene Fälle (Stand)", [tally.value("open_new_arrivals", "")]),
                    row("opened", "neu aufgenommen (\(period))", [value("opened_new_arrivals", "")]),
                ],
                note: "Klientinnen und Klienten, die in den zwei Jahren vor der Aufnahme (offene Fälle: vor heute) nach Deutschland kamen."
            ),
            EvaluationTable(
                id: "documentation-gaps",
                heading: "Dokumentationsstandard: offene Fälle mit Lücken (Stand)",
                keyHeader: "Phase",
                columns: ["Fälle mit Lücken"],
                derivedColumns: [],
                rows: FigureLabels.phases.map { row($0.key, $0.label, [tally.value("documentation_gaps", $0.key)]) },
                note:
                    "Offene Fälle, denen fehlt, was der Dokumentationsstandard des Kreises für ihre Phase verlangt (etwa nach einer Änderung des Standards)."
            ),
            EvaluationTable(
                id: "level2-reports",
                heading: "Meldungen auf Ebene 2 nach Konstellation (\(period))",
                keyHeader: "Konstellation",
                columns: ["von Ämtern (intern)", "von Beratungsdiensten (extern)", "gesamt"],
                derivedColumns: [],
                rows: constellations.map { constellation in
                    let raw = ["level2_internal", "level2_external"].map { value("level_two_reports", "\(constellation.key):\($0)") }
                    return row(constellation.key, constellation.label, raw + [raw.reduce(0, +)])
                },
                note: "Gezählt für den Ort, an dessen Team die Meldung ging.",
                totalColumn: 2
            ),
            EvaluationTable(
                id: "referral-answer-time",
                heading: "Zeit bis zur ersten Antwort auf eine Verweisung (\(period))",
                keyHeader: "Angebot",
                columns: ["beantwortet"],
                derivedColumns: ["Tage bis zur ersten Antwort (Mittel)"],
                rows: services.map { service in
                    let count = value("referrals_answered", service.key)
                    return row(service.key, service.name, [count], [mean(value("referral_answer_days", service.key), over: count, suppression)])
                },
                note: services.isEmpty
                    ? "Keine beantworteten Verweisungen in diesem Zeitraum."
                    : "Verweisungen des Zeitraums; erste Antwort: Annahme, Ablehnung oder Rückmeldung des Angebots.",
                derivedFrom: [[0]]
            ),
            EvaluationTable(
                id: "durations",
                heading: "Dauern im Fallmanagement (\(period))",
                keyHeader: "Abschnitt",
                columns: ["Fälle"],
                derivedColumns: ["Tage (Mittel)"],
                rows: durations,
                note: "Erste Zielvereinbarung: nach ihrem Monat gezählt. Phasen: nach dem Monat, in dem der Fall die Phase verlassen hat.",
                derivedFrom: [[0]]
            ),
            EvaluationTable(
                id: "abh-backlog",
                heading: "Ausländerbehörde: offene Anträge nach Art und Alter (Stand)",
                keyHeader: "Antragsart",
                columns: FigureLabels.ages.map(\.label) + ["offen gesamt"],
                derivedColumns: [],
                rows: applicationKinds.map { kind in
                    let raw = FigureLabels.ages.map { tally.value("abh_open", "\(kind.key):\($0.key)") }
                    return row(kind.key, kind.label, raw + [raw.reduce(0, +)])
                },
                note: "Alter: seit dem Eingang des Antrags.",
                totalColumn: FigureLabels.ages.count
            ),
            EvaluationTable(
                id: "abh-months",
                heading: "Ausländerbehörde: Eingänge und Entscheidungen je Monat (\(period))",
                keyHeader: "Monat",
                columns: ["eingegangen", "entschieden"],
                derivedColumns: [],
                rows: months.map { month in
                    row(
                        month.key,
                        month.label,
                        [tally.sum("abh_received", months: [month.firstDay]), tally.sum("abh_decided", months: [month.firstDay])]
                    )
                },
                monthly: true
            ),
            EvaluationTable(
                id: "abh-decisions",
                heading: "Ausländerbehörde: Entscheidungen nach Antragsart (\(period))",
                keyHeader: "Antragsart",
                columns: decisions.map(\.label) + ["gesamt"],
                derivedColumns: ["Tage vom Eingang bis zur Entscheidung (Mittel)"],
                rows: decided,
                totalColumn: decisions.count,
                derivedFrom: [[decisions.count]]
            ),
            EvaluationTable(
                id: "campaign",
                heading: "Einbürgerungskampagne (\(period))",
                keyHeader: "Zahl",
                columns: ["Anzahl"],
                derivedColumns: [],
                rows: [
                    row("informed", "Klientinnen und Klienten informiert", [value("campaign_informed", "")]),
                    row("prechecks", "Vorprüfungen zur Einbürgerung erbeten", [value("naturalisation_prechecks", "")]),
                    row("applications", "Einbürgerungsanträge nach einer Vorprüfung", [value("naturalisation_applications", "")]),
                ],
                note: "Gezählt für den Ort, der informiert oder die Vorprüfung erbeten hat; nie mit Namen."
            ),
        ]
    }

    // MARK: - Complementary suppression

    /// Every count, named "unit|table/row/column" ("u2|goal-outcomes/language/0", "total|abh-months/2026-07/1").
    mutating func visitCounts(_ visit: (String, Bool, inout FigureCount) -> Void) {
        func each(_ prefix: String, _ unit: inout UnitTables) {
            for table in unit.tables.indices {
                let monthly = unit.tables[table].monthly
                for row in unit.tables[table].rows.indices {
                    let name = "\(prefix)|\(unit.tables[table].id)/\(unit.tables[table].rows[row].key)"
                    for column in unit.tables[table].rows[row].counts.indices {
                        visit("\(name)/\(column)", monthly, &unit.tables[table].rows[row].counts[column])
                    }
                }
            }
        }
        if total != nil { each("total", &total!) }
        for unit in units.indices { each("u\(unit)", &units[unit]) }
    }

    /// Withholds counts so that no suppressed one can be worked out (as `FiguresReport.withholdComplements` does for the
    /// counts), then drops every derived value that rests on a hidden count.
    mutating func withholdComplements(threshold: Int) {
        guard let total else { return }
        var names: [String] = []
        var counts: [FigureCount] = []
        var monthly: [Bool] = []
        visitCounts { name, isMonthly, count in
            names.append(name)
            monthly.append(isMonthly)
            counts.append(count)
        }
        let index = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
        var relations: [ComplementarySuppression.Relation] = []
        var monthLines: [Int] = []
        for unit in ["total"] + units.indices.map { "u\($0)" } {
            for table in total.tables {
                for row in table.rows {
                    let prefix = "\(unit)|\(table.id)/\(row.key)/"
                    if let sum = table.totalColumn {
                        relations.append(
                            [(index[prefix + "\(sum)"]!, -1)] + row.counts.indices.filter { $0 != sum }.map { (index[prefix + "\($0)"]!, 1) }
                        )
                    }
                }
            }
            // The decisions of the months are the decisions of the period by kind.
            if let months = total.tables.first(where: { $0.id == "abh-months" }),
                let byKind = total.tables.first(where: { $0.id == "abh-decisions" }), let all = byKind.totalColumn
            {
                relations.append(
                    months.rows.map { (index["\(unit)|abh-months/\($0.key)/1"]!, -1) }
                        + byKind.rows.map { (index["\(unit)|abh-decisions/\($0.key)/\(all)"]!, 1) }
                )
            }
        }
        for (cell, name) in names.enumerated() where name.hasPrefix("total|") {
            let count = String(name.dropFirst("total|".count))
            if monthly[cell] { monthLines.append(relations.count) }
            relations.append([(cell, -1)] + units.indices.compactMap { index["u\($0)|\(count)"] }.map { ($0, 1) })
        }
        var protection = ComplementarySuppression(counts: counts, relations: relations, threshold: threshold)
        protection.protect(using: monthLines)
        protection.protect(eligible: { !monthly[$0] })
        var position = 0
        visitCounts { _, _, count in
            count = protection.counts[position]
            position += 1
        }
        func dropDerived(_ unit: inout UnitTables) {
            for table in unit.tables.indices {
                for (column, base) in unit.tables[table].derivedFrom.enumerated() {
                    for row in unit.tables[table].rows.indices where base.contains(where: { unit.tables[table].rows[row].counts[$0].shown == nil }) {
                        unit.tables[table].rows[row].derived[column] = nil
                    }
                }
            }
        }
        dropDerived(&self.total!)
        for unit in units.indices { dropDerived(&units[unit]) }
    }

    // MARK: - Export

    /// The evaluation's lines of the half-year CSV (`FiguresCSV.header`'s columns).
    func csvLines(district: String, period: String) -> [[String]] {
        var lines: [[String]] = []
        for unit in units + (total.map { [$0] } ?? []) {
            for table in unit.tables {
                for row in table.rows {
                    let month = table.monthly ? row.key : ""
                    let detail = table.monthly ? "" : row.label
                    for (column, count) in zip(table.columns, row.counts) {
                        lines.append([district, period, unit.name, "Auswertung: \(table.heading) – \(column)", detail, month, count.description])
                    }
                    for (column, value) in zip(table.derivedColumns, row.derived) {
                        lines.append([district, period, unit.name, "Auswertung: \(table.heading) – \(column)", detail, month, value ?? "k. A."])
                    }
                }
            }
        }
        return lines
    }
}
