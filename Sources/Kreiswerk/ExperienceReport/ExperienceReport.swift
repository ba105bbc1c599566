import Foundation

/// One narrative section of the experience report (Erfahrungsbericht), with the figures that concern it.
public enum ReportSection: String, Sendable, CaseIterable, Codable {
    case startingPoint = "starting_point"
    case coordination
    case caseManagement = "case_management"
    case residence
    case structuralProblems = "structural_problems"
    case outlook

    /// The heading as the report shows it.
    public var heading: String {
        switch self {
        case .startingPoint: "Ausgangslage und Zielerreichung"
        case .coordination: "Baustein I: Koordinierung"
        case .caseManagement: "Baustein II: Case Management"
        case .residence: "Baustein III: Aufenthalt und Einbürgerung"
        case .structuralProblems: "Strukturelle Probleme und Lösungen"
        case .outlook: "Ausblick"
        }
    }

    /// What the coordinators write here (the textarea's hint).
    var hint: String {
        switch self {
        case .startingPoint: "Wie war die Lage zu Beginn des Halbjahres, welche Ziele hatten Sie sich gesetzt und was wurde erreicht?"
        case .coordination: "Zusammenarbeit im Kreis: Projektgruppen, Lenkungsgruppe, Fallkonferenzen, Meldungen auf Ebene 2."
        case .caseManagement: "Fälle, Wege nach der Bedarfsklärung, Verweisungen und Rückmeldungen, Dauern, Dokumentation."
        case .residence: "Ausländerbehörde: offene Anträge, Entscheidungen, Einbürgerungskampagne."
        case .structuralProblems: "Welche Systemprobleme wurden gemeldet, auf welcher Ebene gelöst oder weitergegeben?"
        case .outlook: "Was planen Sie für das nächste Halbjahr, was brauchen Sie vom Land?"
        }
    }

    /// The ids of the figure tables (`FigureTable`, `EvaluationTable`) shown beside this section.
    var figureIDs: [String] {
        switch self {
        case .startingPoint: ["overview", "goal-outcomes", "new-arrivals", "target-group", "phase", "channel"]
        case .coordination: ["conferences", "level2-reports", "overdue", "milestones-I"]
        case .caseManagement: ["months", "routes", "referrals", "referral-answer-time", "durations", "documentation-gaps", "milestones-II"]
        case .residence: ["abh-backlog", "abh-months", "abh-decisions", "campaign", "milestones-III"]
        case .structuralProblems: ["problem-level", "problem-category", "problem-age"]
        case .outlook: []
        }
    }

    /// Each section's text at most this long.
    static let maximumLength = 20_000
}

/// The period's figures as the report shows them: tables of already suppressed values ("<5", "."), exactly as the
/// figures pages lay them out. A released report stores these as JSON, so they never change again.
public struct ReportFigures: Sendable, Codable, Equatable {
    public struct Table: Sendable, Codable, Equatable {
        public var id: String
        public var heading: String
        public var keyHeader: String
        public var columns: [String]
        public var rows: [Row]
        public var note: String?
    }

    public struct Row: Sendable, Codable, Equatable {
        public var label: String
        public var cells: [String]
    }

    /// When the district's figures were computed (the snapshot's time).
    public var computedAt: Date
    /// Counts from 1 to threshold − 1 are shown as "<threshold".
    public var threshold: Int
    public var tables: [Table]

    /// The figures of a half-year's report, for the whole district (and the towns in the overview), made from the
    /// figures pages' own tables, so that nothing is counted or suppressed a second way.
    init(_ report: FiguresReport, halfYear: HalfYear) {
        let tables =
            [FigureTable.overview(report)] + FigureTable.sections(report.total, months: halfYear.label)
            + FiguresPages.evaluation(report, report.total.slug)
        self.computedAt = report.computedAt
        self.threshold = report.threshold
        self.tables = tables.map { table in
            Table(
                id: table.id,
                heading: table.heading,
                keyHeader: table.keyHeader,
                columns: table.columns,
                rows: table.rows.map { Row(label: $0.label, cells: $0.cells) },
                note: table.note?.nonEmpty
            )
        }
    }

    /// The milestone plan's tasks of each building block by status, as of `day` (tasks, not people: nothing to suppress).
    mutating func addMilestones(_ summary: MilestoneSummary, asOf day: Day) {
        guard summary.total > 0 else { return }
        let date = day.iso.split(separator: "-").reversed().joined(separator: ".")
        for block in BuildingBlock.allCases {
            let counts = summary.byBuildingBlock[block.rawValue] ?? [:]
            tables.append(
                Table(
                    id: "milestones-\(block.rawValue)",
                    heading: "Meilensteinplan, \(block.label): Aufgaben nach Stand (\(date))",
                    keyHeader: "Stand",
                    columns: ["Aufgaben"],
                    rows: MilestoneStatus.allCases.map { Row(label: $0.label, cells: ["\(counts[$0.rawValue] ?? 0)"]) },
                    note: "Im ganzen Plan \(summary.total) Aufgaben, davon \(summary.open) offen und \(summary.overdue) überfällig."
                )
            )
        }
    }

    /// The tables shown beside `section`, in the section's order.
    func tables(for section: ReportSection) -> [Table] {
        section.figureIDs.compactMap { id in tables.first { $0.id == id } }
    }

    static func decode(_ json: String) -> ReportFigures? {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try? decoder.decode(ReportFigures.self, from: Data(json.utf8))
    }

    func encoded() throws -> String {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}

/// One experience report of a district and half-year: the sections the coordinators wrote, its state, who drafted and
/// released it, its version, and the figures (frozen at release; the live ones of the period while it is a draft).
public struct ExperienceReport: Sendable, Encodable {
    public var district: String
    public var districtName: String
    /// "2026-1"
    public var period: String
    /// "1. Halbjahr 2026"
    public var periodLabel: String
    /// draft or released
    public var state: String
    /// The written sections by key; a section not written is absent.
    public var sections: [String: String]
    public var version: Int
    public var draftedBy: String?
    public var draftedAt: Date
    public var updatedBy: String?
    public var updatedAt: Date
    public var releasedBy: String?
    public var releasedAt: Date?
    /// Whether `figures` are the frozen ones of the release (true) or the live ones of the period (false).
    public var figuresFrozen: Bool
    /// nil when the district has no figures yet.
    public var figures: ReportFigures?

    var released: Bool { state == "released" }

    /// The sections still empty, in the report's order.
    var emptySections: [ReportSection] {
        ReportSection.allCases.filter { (sections[$0.rawValue] ?? "").trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }
    }
}

/// A report as the list shows it.
public struct ExperienceReportSummary: Sendable, Encodable {
    public var period: String
    public var periodLabel: String
    public var state: String
    public var version: Int
    public var draftedBy: String?
    public var updatedAt: Date
    public var releasedBy: String?
    public var releasedAt: Date?
}

/// The district's reports, newest period first, and the half-years a coordinator may start one for.
public struct ExperienceReportList: Sendable, Encodable {
    public var district: String
    public var districtName: String
    public var reports: [ExperienceReportSummary]
    /// The current and past half-years (the last four) that have no report yet; empty for readers who do not write.
    public var startable: [String]
}

/// What a coordinator saves: every section's text (a section left out or blank is empty).
public struct ExperienceReportRequest: Sendable, Decodable {
    /// nil when the body has no `sections` object (a 422 naming it).
    public var sections: [String: String?]?

    public init(sections: [String: String?]?) { self.sections = sections }

    enum CodingKeys: String, CodingKey { case sections }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        sections = try? container.decode([String: String?].self, forKey: .sections)
    }
}
