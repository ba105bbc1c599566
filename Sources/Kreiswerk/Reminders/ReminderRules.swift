import Foundation

/// The periods of a district's scheduler rules, from its tenant file:
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
///   municipal_deadline_weeks: 8          # a structural problem unsolved this long at the municipal level is overdue: the coordinators are reminded
///   district_deadline_weeks: 12          # … at the district level
///   steering_deadline_weeks: 0           # … in the steering group (0: no deadline)
///   automatic_escalation: false          # true: an overdue problem at the municipal level goes up to the district level by itself
///                                        # (never into the steering group: that needs a written proposal)
///   poll_reminder_days: 7                # remind the towns that have not answered a coordinators' poll, once
///   meeting_reminder_days_before: 7      # remind committee members before a meeting (and at the agenda deadline)
///   group_task_days_before: 2            # remind before a project group's task is due (and on the day)
///   suppress_counts_below: 5             # the district's figures show any count from 1 to N-1 as "<N"
/// ```
public struct ReminderRules: Sendable, Equatable, Codable {
    public var goalReviewDaysBefore = 3
    public var reassessmentDaysBefore = 3
    public var referralFeedbackReminderDays = 14
    public var referralFeedbackEscalationDays = 28
    public var reportTriageDays = 3
    public var actionItemDaysBefore = 2
    public var retentionMonths = 36
    public var municipalDeadlineWeeks = 8
    public var districtDeadlineWeeks = 12
    public var steeringDeadlineWeeks = 0
    public var pollReminderDays = 7
    public var meetingReminderDaysBefore = 7
    public var groupTaskDaysBefore = 2
    public var suppressCountsBelow = 5
    /// The scheduler takes a problem past its municipal deadline to the district level itself (off: it reminds the coordinators).
    public var automaticEscalation = false

    public init() {}

    /// The file's name of `automaticEscalation`, the one setting that is not a number.
    static let automaticEscalationField = "automatic_escalation"

    /// The file's field names, their allowed range, and where each goes (immutable; key paths are not Sendable).
    nonisolated(unsafe) static let fields: [(name: String, range: ClosedRange<Int>, path: WritableKeyPath<ReminderRules, Int>)] = [
        ("goal_review_days_before", 0...60, \.goalReviewDaysBefore),
        ("reassessment_days_before", 0...60, \.reassessmentDaysBefore),
        ("referral_feedback_reminder_days", 1...365, \.referralFeedbackReminderDays),
        ("referral_feedback_escalation_days", 1...365, \.referralFeedbackEscalationDays),
        ("report_triage_days", 1...60, \.reportTriageDays),
        ("action_item_days_before", 0...60, \.actionItemDaysBefore),
        ("retention_months", 6...240, \.retentionMonths),
        ("municipal_deadline_weeks", 1...104, \.municipalDeadlineWeeks),
        ("district_deadline_weeks", 1...104, \.districtDeadlineWeeks),
        ("steering_deadline_weeks", 0...104, \.steeringDeadlineWeeks),
        ("poll_reminder_days", 1...60, \.pollReminderDays),
        ("meeting_reminder_days_before", 0...60, \.meetingReminderDaysBefore),
        ("group_task_days_before", 0...60, \.groupTaskDaysBefore),
        ("suppress_counts_below", 2...50, \.suppressCountsBelow),
    ]

    /// Stored as a JSON object of the file's field names; a missing field keeps its default.
    public init(from decoder: any Decoder) throws {
        let values = try decoder.container(keyedBy: FieldName.self)
        self.init()
        for field in Self.fields {
            if let value = try values.decodeIfPresent(Int.self, forKey: FieldName(field.name)) { self[keyPath: field.path] = value }
        }
        automaticEscalation = try values.decodeIfPresent(Bool.self, forKey: FieldName(Self.automaticEscalationField)) ?? false
    }

    public func encode(to encoder: any Encoder) throws {
        var values = encoder.container(keyedBy: FieldName.self)
        for field in Self.fields { try values.encode(self[keyPath: field.path], forKey: FieldName(field.name)) }
        try values.encode(automaticEscalation, forKey: FieldName(Self.automaticEscalationField))
    }

    /// A field of the stored object, by its file name.
    struct FieldName: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
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
