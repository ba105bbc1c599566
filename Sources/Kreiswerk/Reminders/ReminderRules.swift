import Foundation

/// The periods of a district's reminder and retention rules, from its tenant file:
///
/// ```yaml
/// reminders:                             # every field optional; the defaults are shown
///   goal_review_days_before: 3           # remind the case manager before a goal's review date (and on the day)
///   reassessment_days_before: 3          # the same for a case's next review (re-assessment)
///   referral_feedback_reminder_days: 14  # no feedback on a referral after N days: remind the sending case manager
///   referral_feedback_escalation_days: 28  # … after M days: tell the district coordinators
///   report_triage_days: 3                # a level-2 report undecided after N days: remind the town's team
///   action_item_days_before: 2           # remind before a conference action item is due (and on the day)
///   retention_months: 36                 # anonymise clients whose cases closed longer ago than this
/// ```
public struct ReminderRules: Sendable, Equatable, Codable {
    public var goalReviewDaysBefore = 3
    public var reassessmentDaysBefore = 3
    public var referralFeedbackReminderDays = 14
    public var referralFeedbackEscalationDays = 28
    public var reportTriageDays = 3
    public var actionItemDaysBefore = 2
    public var retentionMonths = 36

    public init() {}

    /// The file's field names, their allowed range, and where each goes (immutable; key paths are not Sendable).
    nonisolated(unsafe) static let fields: [(name: String, range: ClosedRange<Int>, path: WritableKeyPath<ReminderRules, Int>)] = [
        ("goal_review_days_before", 0...60, \.goalReviewDaysBefore),
        ("reassessment_days_before", 0...60, \.reassessmentDaysBefore),
        ("referral_feedback_reminder_days", 1...365, \.referralFeedbackReminderDays),
        ("referral_feedback_escalation_days", 1...365, \.referralFeedbackEscalationDays),
        ("report_triage_days", 1...60, \.reportTriageDays),
        ("action_item_days_before", 0...60, \.actionItemDaysBefore),
        ("retention_months", 6...240, \.retentionMonths),
    ]

    enum CodingKeys: String, CodingKey {
        case goalReviewDaysBefore = "goal_review_days_before", reassessmentDaysBefore = "reassessment_days_before"
        case referralFeedbackReminderDays = "referral_feedback_reminder_days"
        case referralFeedbackEscalationDays = "referral_feedback_escalation_days"
        case reportTriageDays = "report_triage_days", actionItemDaysBefore = "action_item_days_before", retentionMonths = "retention_months"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = ReminderRules()
        goalReviewDaysBefore = try container.decodeIfPresent(Int.self, forKey: .goalReviewDaysBefore) ?? defaults.goalReviewDaysBefore
        reassessmentDaysBefore = try container.decodeIfPresent(Int.self, forKey: .reassessmentDaysBefore) ?? defaults.reassessmentDaysBefore
        referralFeedbackReminderDays =
            try container.decodeIfPresent(Int.self, forKey: .referralFeedbackReminderDays) ?? defaults.referralFeedbackReminderDays
        referralFeedbackEscalationDays =
            try container.decodeIfPresent(Int.self, forKey: .referralFeedbackEscalationDays) ?? defaults.referralFeedbackEscalationDays
        reportTriageDays = try container.decodeIfPresent(Int.self, forKey: .reportTriageDays) ?? defaults.reportTriageDays
        actionItemDaysBefore = try container.decodeIfPresent(Int.self, forKey: .actionItemDaysBefore) ?? defaults.actionItemDaysBefore
        retentionMonths = try container.decodeIfPresent(Int.self, forKey: .retentionMonths) ?? defaults.retentionMonths
    }

    /// As stored in `tenants.reminder_rules`.
    var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try! encoder.encode(self), as: UTF8.self)
    }

    static func decode(json: String?) -> ReminderRules? {
        json.flatMap { try? JSONDecoder().decode(ReminderRules.self, from: Data($0.utf8)) }
    }
}
