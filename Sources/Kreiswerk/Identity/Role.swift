/// What a person does in Kreiswerk. A user has one or more; the `Policy` decides what each may do.
public enum Role: String, Sendable, Codable, CaseIterable, Comparable {
    /// Betrieb: onboards districts and carriers, manages accounts, runs operations.
    case platformAdmin = "platform_admin"
    /// Koordinierungsstelle (KS): oversees all towns of the district.
    case districtCoordinator = "district_coordinator"
    /// Assistenz of the coordination: meetings, minutes, reports.
    case districtAssistant = "district_assistant"
    /// Administers the accounts of their own tenant.
    case tenantAdmin = "tenant_admin"
    /// Amts- oder Teamleitung: oversees the tenant's caseload and staff.
    case teamLead = "team_lead"
    /// Case Manager:in: individual case work.
    case caseManager = "case_manager"
    /// Ausländerbehörde, Baustein III.
    case abhOfficer = "abh_officer"
    /// Beratung: counselling staff of a carrier's or authority's services. Receives referrals to them, accepts or declines,
    /// reports back, takes part in conferences they are invited to; sees nothing of case management.
    case counsellor
    /// Meldende Stelle: may report cases to a municipality (access level 2).
    case partner
    /// Member of the steering group (Lenkungsgruppe).
    case steeringMember = "steering_member"

    /// The role's name in the user interface.
    public var label: String {
        switch self {
        case .platformAdmin: "Plattform-Administration"
        case .districtCoordinator: "Koordinierungsstelle"
        case .districtAssistant: "Assistenz der Koordinierung"
        case .tenantAdmin: "Mandanten-Administration"
        case .teamLead: "Amts-/Teamleitung"
        case .caseManager: "Case Management"
        case .abhOfficer: "Ausländerbehörde"
        case .counsellor: "Beratung"
        case .partner: "Meldende Stelle"
        case .steeringMember: "Lenkungsgruppe"
        }
    }

    public static func < (lhs: Role, rhs: Role) -> Bool { allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)! }

    /// Parses role names, naming the first unknown one and the valid choices; `requireOne`: at least one.
    public static func parse(_ names: [String], requireOne: Bool = true) throws(InvalidInput) -> Set<Role> {
        var roles = Set<Role>()
        for name in names {
            guard let role = Role(rawValue: name) else {
                throw InvalidInput(field: "roles", "'\(name)' ist keine Rolle; möglich sind \(allCases.map(\.rawValue).joined(separator: ", ")).")
            }
            roles.insert(role)
        }
        guard !roles.isEmpty || !requireOne else { throw InvalidInput(field: "roles", "Bitte mindestens eine Rolle angeben.") }
        return roles
    }
}
