/// The keys of the figures' categories in a fixed order, with their German labels.
enum FigureLabels {
    typealias Labelled = [(key: String, label: String)]

    /// Phases of open cases (closure is never open).
    static let phases: Labelled = Phase.allCases.filter { $0 != .closure }.map { ($0.rawValue, $0.label) }
    static let channels: Labelled = AccessChannel.allCases.map { ($0.rawValue, $0.label) }
    static let targetGroups: Labelled = [
        ("single_parent", "Alleinerziehende"), ("unaccompanied_minor", "Unbegleitete Minderjährige"),
        ("family_with_barriers", "Familien mit Zugangshürden"), ("none", "Ohne Zielgruppenmerkmal"),
    ]
    static let conferenceKinds: Labelled = [("municipal", "Kommunale Fallkonferenz"), ("district", "Fallkonferenz auf Kreisebene")]
    static let levels: Labelled = LadderLevel.allCases.map { ($0.rawValue, $0.label) }
    static let categories: Labelled = ProblemCategory.allCases.map { ($0.rawValue, $0.label) }
    static let ages: Labelled = [
        ("under_3_months", "unter 3 Monate"), ("3_to_6_months", "3 bis 6 Monate"), ("6_to_12_months", "6 bis 12 Monate"),
        ("over_12_months", "über 12 Monate"),
    ]
    static let overdue: Labelled = [
        ("goal_review", "Zielüberprüfungen"), ("reassessment", "Re-Assessments (Wiedervorlagen)"),
        ("referral_feedback", "Verweisungen ohne Rückmeldung"), ("action_item", "Aufgaben aus Fallkonferenzen"),
        ("group_task", "Aufgaben aus Projektgruppen"),
    ]

    static func label(_ key: String, in list: Labelled) -> String { list.first { $0.key == key }?.label ?? key }
}
