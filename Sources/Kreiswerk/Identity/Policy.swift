import Foundation

/// Everything a route or command may ask permission for. Every guarded route names one.
public enum Permission: String, Sendable, CaseIterable {
    /// Own account: profile, password, second factor, personal access tokens. Every role.
    case ownAccount
    /// The tenants one may see (scope decides which).
    case viewTenants
    /// Onboard a new district or carrier and its first tenant administrator.
    case onboardTenants
    /// See accounts.
    case viewUsers
    /// Create accounts, change roles, deactivate.
    case manageUsers
    /// Require a second factor for a tenant.
    case manageTenantSecurity
    /// Read the audit trail.
    case readAudit
    /// Case work: clients, consent, cases, goals, notes of the own tenant.
    case workCases
    /// Define the tenant's own client fields.
    case defineClientFields
    /// Read the district's minimum documentation standard.
    case viewDocumentationStandard
    /// Set the district's minimum documentation standard.
    case setDocumentationStandard
    /// Report a complex case to a town's case-management team (level 2).
    case reportCases
    /// Read the case conferences one's tenant organises or is invited to.
    case attendConferences
    /// See all open cases of the tenant, not only one's own (Amts-/Teamleitung).
    case overseeCaseload
    /// Operate the job queue: list, retry, cancel jobs, read the metrics.
    case operateJobs
    /// Raise a structural problem from one's own cases, and answer the coordinators' polls about problems.
    case raiseProblems
    /// Steer the escalation ladder: see all problems of the district, poll the towns, escalate, solve, publish, write to the state.
    case coordinateDistrict
    /// Run the committees: project groups and the steering group (members, meetings, minutes, tasks, decision papers).
    case runCommittees
    /// Read the steering group: members, rules of procedure, meetings, decision papers and decisions.
    case viewSteeringGroup
    /// Read the district's figures (aggregated, small counts suppressed) and export them.
    case viewDistrictFigures
}

/// How far a permission reaches.
public enum Scope: Int, Sendable, Comparable {
    case none, ownTenant, district, all
    public static func < (lhs: Scope, rhs: Scope) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// The one place that decides who may do what. Routes and commands ask it; nothing else decides.
public struct Policy: Sendable {
    public init() {}

    /// How far `permission` reaches for someone holding `role`.
    public func scope(of role: Role, for permission: Permission) -> Scope {
        switch (permission, role) {
        case (.ownAccount, _): .ownTenant
        case (.viewTenants, .platformAdmin): .all
        case (.viewTenants, .districtCoordinator), (.viewTenants, .districtAssistant), (.viewTenants, .steeringMember): .district
        case (.viewTenants, _): .ownTenant
        case (.onboardTenants, .platformAdmin): .all
        case (.viewUsers, .platformAdmin), (.manageUsers, .platformAdmin), (.manageTenantSecurity, .platformAdmin), (.readAudit, .platformAdmin): .all
        case (.viewUsers, .districtCoordinator), (.readAudit, .districtCoordinator): .district
        case (.viewUsers, .tenantAdmin), (.manageUsers, .tenantAdmin), (.manageTenantSecurity, .tenantAdmin), (.readAudit, .tenantAdmin): .ownTenant
        case (.workCases, .caseManager), (.workCases, .teamLead): .ownTenant
        case (.defineClientFields, .tenantAdmin): .ownTenant
        case (.viewDocumentationStandard, .platformAdmin), (.setDocumentationStandard, .platformAdmin): .all
        case (.viewDocumentationStandard, .districtCoordinator), (.setDocumentationStandard, .districtCoordinator): .district
        case (.viewDocumentationStandard, _): .district
        case (.reportCases, .partner), (.reportCases, .abhOfficer): .ownTenant
        case (.overseeCaseload, .teamLead): .ownTenant
        case (.operateJobs, .platformAdmin): .all
        case (.raiseProblems, .caseManager), (.raiseProblems, .teamLead): .ownTenant
        case (.coordinateDistrict, .districtCoordinator): .district
        case (.runCommittees, .districtCoordinator), (.runCommittees, .districtAssistant): .district
        case (.viewSteeringGroup, .districtCoordinator), (.viewSteeringGroup, .districtAssistant), (.viewSteeringGroup, .steeringMember): .district
        case (.viewDistrictFigures, .districtCoordinator), (.viewDistrictFigures, .districtAssistant), (.viewDistrictFigures, .steeringMember): .district
        case (.attendConferences, .caseManager), (.attendConferences, .teamLead), (.attendConferences, .districtCoordinator),
            (.attendConferences, .districtAssistant), (.attendConferences, .abhOfficer), (.attendConferences, .partner):
            .ownTenant
        default: .none
        }
    }

    /// The widest scope any of the identity's roles gives.
    public func scope(of identity: Identity, for permission: Permission) -> Scope {
        identity.roles.map { scope(of: $0, for: permission) }.max() ?? .none
    }

    /// Whether the identity may do `permission` at all (the route-level check).
    public func allows(_ identity: Identity, _ permission: Permission) -> Bool {
        scope(of: identity, for: permission) > .none
    }

    /// Whether the identity may do `permission` to objects of `tenant` (the object-level check).
    public func allows(_ identity: Identity, _ permission: Permission, in tenant: TenantRef) -> Bool {
        switch scope(of: identity, for: permission) {
        case .none: false
        case .ownTenant: tenant.id == identity.tenant.id
        case .district: tenant.id == identity.tenant.id || (tenant.ownDistrictID != nil && tenant.ownDistrictID == identity.tenant.ownDistrictID)
        case .all: true
        }
    }

    /// The district whose tenants row-level security lets this identity read, for `permission`:
    /// only when its scope is the district, and only for staff of a district tenant.
    public func readableDistrict(of identity: Identity, for permission: Permission) -> UUID? {
        scope(of: identity, for: permission) == .district && identity.tenant.kind == "district" ? identity.tenant.id : nil
    }
}
