import Foundation

/// What kind of organisation a tenant is.
public enum TenantKind: String, Sendable, Codable, CaseIterable, Comparable {
    /// A Kreis: hosts the coordination layer (Koordinierungsstellen) for its towns.
    case district
    /// A kreisangehörige Stadt or Gemeinde with its own case-management team.
    case municipality
    /// A welfare carrier, VHS or other Träger that carries funded shares or counselling services.
    case carrier
    /// An authority such as the district's Ausländerbehörde or a Jobcenter.
    case authority

    /// Districts first, then the organisations within them.
    public static func < (lhs: TenantKind, rhs: TenantKind) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// A funded programme whose staff shares a tenant carries.
public enum StaffProgramme: String, Sendable, Codable, CaseIterable, Comparable {
    /// Baustein I: Koordinierungsstellen (3.5 per district).
    case coordination
    /// Baustein I: the assistance post beside the coordination posts (0.5 per district).
    case assistance
    /// Baustein II: case management (CM-Stellen).
    case caseManagement = "case_management"
    /// Baustein III: additional posts in the Ausländer- und Einbürgerungsbehörde.
    case immigrationOffice = "immigration_office"

    public static func < (lhs: StaffProgramme, rhs: StaffProgramme) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A funded staff share for one programme and year, e.g. case management 2022.
public struct StaffShareKey: Sendable, Hashable, Comparable {
    public var programme: StaffProgramme
    public var year: Int

    public init(_ programme: StaffProgramme, _ year: Int) {
        self.programme = programme
        self.year = year
    }

    public static func < (lhs: StaffShareKey, rhs: StaffShareKey) -> Bool {
        (lhs.programme, lhs.year) < (rhs.programme, rhs.year)
    }
}

/// A hosted organisation as the tenant files declare it (and as the catalogue stores it).
public struct Tenant: Sendable, Equatable {
    public var slug: String
    public var name: String
    public var kind: TenantKind
    /// The district's slug; nil for a district itself.
    public var district: String?
    /// The carrier that carries out this municipality's case management, by slug.
    public var caseManagementBy: String?
    /// Verortung: the office or department the posts are attached to.
    public var organisationalUnit: String?
    /// nil where the files do not say.
    public var hasOwnForeignersAuthority: Bool?
    public var hasYouthOffice: Bool?
    public var hasIntegrationCouncil: Bool?
    public var contactEmail: String?
    public var contactPhone: String?
    public var staffShares: [StaffShareKey: FullTimeEquivalent]
    /// A district's reminder periods; nil where its file gives none (the defaults apply).
    public var reminderRules: ReminderRules?
    /// Programmes the tenant is entitled to but does not take, with the reason (Witten's own coordination post).
    public var staffWaivers: [StaffProgramme: String] = [:]

    public init(
        slug: String,
        name: String,
        kind: TenantKind,
        district: String? = nil,
        caseManagementBy: String? = nil,
        organisationalUnit: String? = nil,
        hasOwnForeignersAuthority: Bool? = nil,
        hasYouthOffice: Bool? = nil,
        hasIntegrationCouncil: Bool? = nil,
        contactEmail: String? = nil,
        contactPhone: String? = nil,
        staffShares: [StaffShareKey: FullTimeEquivalent] = [:],
        reminderRules: ReminderRules? = nil
    ) {
        self.slug = slug
        self.name = name
        self.kind = kind
        self.district = district
        self.caseManagementBy = caseManagementBy
        self.organisationalUnit = organisationalUnit
        self.hasOwnForeignersAuthority = hasOwnForeignersAuthority
        self.hasYouthOffice = hasYouthOffice
        self.hasIntegrationCouncil = hasIntegrationCouncil
        self.contactEmail = contactEmail
        self.contactPhone = contactPhone
        self.staffShares = staffShares
        self.reminderRules = reminderRules
    }

    /// KIM rule (Baustein I): a town with its own Ausländerbehörde, Jugendamt and
    /// Integrationsrat is entitled to a coordination post of its own. Derived, never stored.
    public var isEntitledToOwnCoordinationPost: Bool {
        kind == .municipality && hasOwnForeignersAuthority == true && hasYouthOffice == true && hasIntegrationCouncil == true
    }
}
