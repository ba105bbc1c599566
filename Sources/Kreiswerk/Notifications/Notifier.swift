import Foundation
import Logging
import PostgresNIO

/// What a notification is about; each kind has the German sentence an e-mail says of it
/// (e-mails never carry client data: only this sentence and a link).
public enum NotificationKind: String, Sendable, CaseIterable, Codable {
    case goalReview = "goal_review"
    case reassessment
    case referralFeedback = "referral_feedback"
    case referralOverdue = "referral_overdue"
    case referralAnswered = "referral_answered"
    case reportTriage = "report_triage"
    case actionItem = "action_item"
    case conferenceModeration = "conference_moderation"
    case conferenceInvitation = "conference_invitation"
    case conferenceChanged = "conference_changed"
    case conferenceCancelled = "conference_cancelled"
    case caseHandedOver = "case_handed_over"
    case problemRaised = "problem_raised"
    case problemEscalated = "problem_escalated"
    case problemOverdue = "problem_overdue"
    case problemSolved = "problem_solved"
    case problemPoll = "problem_poll"
    case committeeMeeting = "committee_meeting"
    case groupTask = "group_task"
    case rolesChanged = "roles_changed"
    case standIn = "stand_in"
    case precheckAsked = "precheck_asked"
    case precheckAnswered = "precheck_answered"
    case documentationRequest = "documentation_request"

    /// The e-mail's sentence: what kind of thing waits in Kreiswerk, nothing about whom.
    public var mailSentence: String {
        switch self {
        case .goalReview: "Eine Zielüberprüfung in einem Ihrer Fälle steht an."
        case .reassessment: "Eine Wiedervorlage (Re-Assessment) in einem Ihrer Fälle steht an."
        case .referralFeedback: "Zu einer Ihrer Verweisungen fehlt noch die Rückmeldung des Dienstes."
        case .referralOverdue: "Im Kreis wartet eine Verweisung ungewöhnlich lange auf Rückmeldung."
        case .referralAnswered: "Eine Beratungsstelle hat auf eine Ihrer Verweisungen geantwortet."
        case .reportTriage: "Eine Meldung (Ebene 2) wartet auf die Entscheidung Ihres Teams."
        case .actionItem: "Eine Aufgabe aus einer Fallkonferenz ist fällig."
        case .conferenceModeration: "Sie werden gebeten, eine Fallkonferenz zu moderieren."
        case .conferenceInvitation: "Sie sind zu einer Fallkonferenz eingeladen."
        case .conferenceChanged: "Eine Fallkonferenz, zu der Sie eingeladen sind, wurde verlegt."
        case .conferenceCancelled: "Eine Fallkonferenz, zu der Sie eingeladen waren, wurde abgesagt."
        case .caseHandedOver: "Ihnen wurde ein Fall übergeben."
        case .problemRaised: "Ein neues Systemproblem wurde gemeldet."
        case .problemEscalated: "Ein Systemproblem wurde an die nächste Ebene weitergegeben."
        case .problemOverdue: "Bei einem Systemproblem ist die Frist der Ebene überschritten; die Koordinierungsstelle entscheidet."
        case .problemSolved: "Für ein Systemproblem wurde eine Lösung festgehalten."
        case .problemPoll: "Die Koordinierungsstelle bittet um Ihre Erfahrung mit einem Systemproblem."
        case .committeeMeeting: "Eine Sitzung eines Gremiums steht an."
        case .groupTask: "Eine Aufgabe aus einer Projektgruppe ist fällig."
        case .rolesChanged: "Ihre Rollen in Kreiswerk wurden geändert."
        case .standIn: "Sie wurden als Vertretung einer Kollegin oder eines Kollegen eingetragen."
        case .precheckAsked: "Eine Anfrage zur Vorprüfung wartet auf die Antwort Ihrer Ausländerbehörde."
        case .precheckAnswered: "Die Ausländerbehörde hat eine Ihrer Vorprüfungen beantwortet."
        case .documentationRequest: "Es gibt Neues zu einem Änderungsvorschlag zum Dokumentationsstandard des Kreises."
        }
    }
}

/// Writes notifications, always through the database's `notify()`: it checks the recipient
/// (the acting tenant's staff, or the coordinators of its district), keeps one per occasion
/// (`dedupeKey`), and queues the e-mail when the recipient wants it at once.
public enum Notifier {
    /// Returns whether the notification is new.
    @discardableResult
    public static func notify(
        _ recipient: UUID,
        _ kind: NotificationKind,
        title: String,
        link: String,
        dedupeKey: String,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws -> Bool {
        try await connection.query(
            "SELECT notify(\(recipient), \(kind.rawValue), \(title), \(link), \(dedupeKey))",
            logger: logger
        ).collect().first?.decode(Bool.self) ?? false
    }

    /// The district coordinators of the acting tenant's district.
    public static func districtCoordinators(on connection: PostgresConnection, logger: Logger) async throws -> [UUID] {
        try await connection.query("SELECT district_coordinators()", logger: logger).collect().map { try $0.decode(UUID.self) }
    }
}
