import Foundation

/// The four kinds of structural problem of the concept (section 6).
public enum ProblemCategory: String, Sendable, Codable, CaseIterable {
    case jurisdictionInterplay = "jurisdiction_interplay"
    case structuralGap = "structural_gap"
    case accumulatedDisadvantage = "accumulated_disadvantage"
    case personalConflict = "personal_conflict"

    public var label: String {
        switch self {
        case .jurisdictionInterplay: "Zusammenspiel der Rechtskreise"
        case .structuralGap: "Strukturelle Lücke in Angeboten oder Übergängen"
        case .accumulatedDisadvantage: "Kumulierte Benachteiligung"
        case .personalConflict: "Persönlicher Konflikt / Ermessensgebrauch"
        }
    }
}

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

    /// How long a problem may stay at this level before the scheduler takes it up; nil: no deadline.
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
