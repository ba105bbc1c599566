/// The phases of case management after Reis, in order.
public enum Phase: String, Sendable, Codable, CaseIterable {
    case intake
    case assessment
    case goalAgreement = "goal_agreement"
    case serviceSteering = "service_steering"
    case monitoring
    case reassessment
    case closure

    public var label: String {
        switch self {
        case .intake: "Erstberatung (Intake)"
        case .assessment: "Bedarfsklärung (Assessment)"
        case .goalAgreement: "Zielvereinbarung"
        case .serviceSteering: "Leistungssteuerung"
        case .monitoring: "Monitoring"
        case .reassessment: "Re-Assessment"
        case .closure: "Abschluss (Evaluation)"
        }
    }

    /// Where a case may go from here. Closure is always possible: taking part is voluntary.
    public var next: [Phase] {
        switch self {
        case .intake: [.assessment, .closure]
        case .assessment: [.goalAgreement, .closure]
        case .goalAgreement: [.serviceSteering, .closure]
        case .serviceSteering: [.monitoring, .closure]
        case .monitoring: [.reassessment, .closure]
        case .reassessment: [.goalAgreement, .serviceSteering, .monitoring, .closure]
        case .closure: []
        }
    }

    /// Where a case on `route` may go from here: referred to a counselling service after the assessment, it goes to monitoring
    /// directly, as the concept records it (the referral is followed up there; no goal agreement of its own is needed).
    public func next(route: CaseRoute?) -> [Phase] {
        self == .assessment && route == .counsellingReferral ? [.goalAgreement, .monitoring, .closure] : next
    }
}

/// The route a case manager chooses after the assessment.
public enum CaseRoute: String, Sendable, Codable, CaseIterable {
    /// Registered only: the welcome package is enough.
    case welcomePackage = "welcome_package"
    case solvedDirectly = "solved_directly"
    /// Cross-jurisdiction care, with referrals to Jugendamt, Sozialamt, …
    case crossJurisdiction = "cross_jurisdiction"
    /// Referral to a counselling service (JMD, MBE, refugee counselling, …), followed up in monitoring.
    case counsellingReferral = "counselling_referral"

    public var label: String {
        switch self {
        case .welcomePackage: "Registrierung mit Willkommenspaket"
        case .solvedDirectly: "Direkt gelöst"
        case .crossJurisdiction: "Rechtskreisübergreifende Betreuung"
        case .counsellingReferral: "Verweis an eine Beratungsstelle"
        }
    }

    /// Routes that end with the assessment: the case may close right after it.
    public var endsAfterAssessment: Bool { self == .welcomePackage || self == .solvedDirectly }
}

/// How the client came to case management.
public enum AccessChannel: String, Sendable, Codable, CaseIterable {
    /// Level 1: direct access (flyer of the residents' office, walk-in).
    case level1
    /// Level 2: reported by an internal actor (Jugendamt, Sozialamt, Jobcenter, ABH).
    case level2Internal = "level2_internal"
    /// Level 2: reported by an external actor (counselling services).
    case level2External = "level2_external"

    public var label: String {
        switch self {
        case .level1: "Ebene 1: direkter Zugang"
        case .level2Internal: "Ebene 2: Meldung (intern)"
        case .level2External: "Ebene 2: Meldung (extern)"
        }
    }
}

/// The areas a goal can belong to.
public enum GoalArea: String, Sendable, Codable, CaseIterable {
    case language, work, education, housing, health, residence, family, social

    public var label: String {
        switch self {
        case .language: "Sprache"
        case .work: "Arbeit"
        case .education: "Bildung"
        case .housing: "Wohnen"
        case .health: "Gesundheit"
        case .residence: "Aufenthalt"
        case .family: "Familie"
        case .social: "Soziales"
        }
    }
}

/// How a goal turned out, recorded at its review.
public enum GoalOutcome: String, Sendable, Codable, CaseIterable {
    case achieved, partly
    case notAchieved = "not_achieved"
    case dropped

    public var label: String {
        switch self {
        case .achieved: "erreicht"
        case .partly: "teilweise erreicht"
        case .notAchieved: "nicht erreicht"
        case .dropped: "aufgegeben"
        }
    }
}
