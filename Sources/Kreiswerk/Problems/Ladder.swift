import Foundation

/// A structural problem's category: the four constellations of the concept (section 6), the same
/// that a level-2 report names for a complex case.
public typealias ProblemCategory = Complexity

/// The escalation ladder (section 7): municipal project group → district project group → steering group → state.
public enum LadderLevel: String, Sendable, Codable, CaseIterable, Comparable {
    case municipal, district, steering, state

    public var label: String {
        switch self {
        case .municipal: "Kommunale Projektgruppe"
        case .district: "Projektgruppe auf Kreisebene"
        case .steering: "Lenkungsgruppe"
        case .state: "Landesebene"
        }
    }

    public var next: LadderLevel? {
        switch self {
        case .municipal: .district
        case .district: .steering
        case .steering: .state
        case .state: nil
        }
    }

    /// How long a problem may stay at this level before it is overdue and the coordinators are reminded; nil: no deadline.
    public func deadline(_ rules: ReminderRules) -> Int? {
        let weeks =
            switch self {
            case .municipal: rules.municipalDeadlineWeeks
            case .district: rules.districtDeadlineWeeks
            case .steering: rules.steeringDeadlineWeeks
            case .state: 0
            }
        return weeks > 0 ? weeks : nil
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)! }
}

/// Where a problem comes from: a case manager's cases, or an outside source the coordinators record (section 8).
public enum ProblemSource: String, Sendable, Codable, CaseIterable {
    case caseWork = "case_work"
    case integrationCouncil = "integration_council"
    case migrantOrganisation = "migrant_organisation"
    case carrier
    case outsideActor = "outside_actor"

    public var label: String {
        switch self {
        case .caseWork: "Fallarbeit"
        case .integrationCouncil: "Integrationsrat"
        case .migrantOrganisation: "Migrantenorganisation (MSO)"
        case .carrier: "Träger"
        case .outsideActor: "Andere Stelle oder Person"
        }
    }

    /// The sources a coordinator records.
    public static var outside: [ProblemSource] { allCases.filter { $0 != .caseWork } }
}

/// Where a problem stands.
public enum ProblemStatus: String, Sendable, Codable {
    case open, solved, submitted

    public var label: String {
        switch self {
        case .open: "offen"
        case .solved: "gelöst"
        case .submitted: "an das Land gegeben"
        }
    }
}

/// The legal spheres a problem (or a service) touches.
public enum LegalSphere {
    public static let all = ["SGB II", "SGB III", "SGB VIII", "SGB XII", "AufenthG"]
}
