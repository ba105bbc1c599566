import Foundation

/// Everything a route or command may ask permission for. Every guarded route names one.
public enum Permission: String, Sendable, CaseIterable {
    /// Own account: profile, password, second factor, personal access tokens. Every role.
    case ownAccount
    /// The tenants one may see (scope decides which).
    case viewTenants
    /// Onboard a new district or carrier and its first tenant administrator, and open a tenant's page.
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
    /// Receive the referrals to one's tenant's services, accept or decline them and report back; read those one sent.
    case answerReferrals
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
    /// Keep the Ausländerbehörde's register of applications (§§ 25a, 25b, 104c AufenthG, § 10 StAG) and read its backlog.
    case keepApplicationRegister
    /// Find the district's counselling services (Angebote): its directory, each service's page. Everyone of a district.
    case viewServices
    /// Create, change and retire services: a tenant's administrators and counsellors their own tenant's, the district's
    /// coordinators every service of the district (`ServiceUpkeep.mayMaintain`).
    case maintainServices
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
        // A coordinator onboards carriers and authorities of their own district (`TenantOnboarding.mayOnboard`).
        case (.onboardTenants, .districtCoordinator): .district
        case (.viewUsers, .platformAdmin), (.manageUsers, .platformAdmin), (.manageTenantSecurity, .platformAdmin), (.readAudit, .platformAdmin): .all
        // A coordinator changes accounts of the district only by the coordination roles (`mayGrant`).
        case (.viewUsers, .districtCoordinator), (.manageUsers, .districtCoordinator), (.readAudit, .districtCoordinator): .district
        case (.viewUsers, .tenantAdmin), (.manageUsers, .tenantAdmin), (.manageTenantSecurity, .tenantAdmin), (.readAudit, .tenantAdmin): .ownTenant
        case (.workCases, .caseManager), (.workCases, .teamLead): .ownTenant
        case (.answerReferrals, .caseManager), (.answerReferrals, .teamLead), (.answerReferrals, .counsellor): .ownTenant
        case (.defineClientFields, .tenantAdmin): .ownTenant
        case (.viewDocumentationStandard, .platformAdmin), (.setDocumentationStandard, .platformAdmin): .all
        case (.viewDocumentationStandard, .districtCoordinator), (.setDocumentationStandard, .districtCoordinator): .district
        case (.viewDocumentationStandard, _): .district
        case (.reportCases, .partner), (.reportCases, .abhOfficer): .ownTenant
        case (.keepApplicationRegister, .abhOfficer): .ownTenant
        case (.viewServices, .platformAdmin): .none
        case (.viewServices, _): .district
        case (.maintainServices, .tenantAdmin), (.maintainServices, .counsellor): .ownTenant
        case (.maintainServices, .districtCoordinator): .district
        case (.overseeCaseload, .teamLead): .ownTenant
        case (.operateJobs, .platformAdmin): .all
        case (.raiseProblems, .caseManager), (.raiseProblems, .teamLead): .ownTenant
        case (.coordinateDistrict, .districtCoordinator): .district
        case (.runCommittees, .districtCoordinator), (.runCommittees, .districtAssistant): .district
        case (.viewSteeringGroup, .districtCoordinator), (.viewSteeringGroup, .districtAssistant), (.viewSteeringGroup, .steeringMember): .district
        case (.viewDistrictFigures, .districtCoordinator), (.viewDistrictFigures, .districtAssistant), (.viewDistrictFigures, .steeringMember):
            .district
        case (.attendConferences, .caseManager), (.attendConferences, .teamLead), (.attendConferences, .districtCoordinator),
            (.attendConferences, .districtAssistant), (.attendConferences, .abhOfficer), (.attendConferences, .partner),
            (.attendConferences, .counsellor):
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

// MARK: - Roles: where each exists, who grants it

/// Who may grant a role, and take it away again.
public enum RoleGrantor: Sendable, Equatable {
    /// Only a platform administrator (Betrieb).
    case platformAdministration
    /// A district coordinator of the account's district, or a platform administrator.
    case districtCoordination
    /// A tenant administrator of the account's own tenant, or a platform administrator.
    case tenantAdministration

    /// Who that is, as a sentence ends: "… vergibt nur <phrase>."
    var phrase: String {
        switch self {
        case .platformAdministration: "die Plattform-Administration"
        case .districtCoordination: "die Koordinierungsstelle des Kreises oder die Plattform-Administration"
        case .tenantAdministration: "die Mandanten-Administration des Mandanten oder die Plattform-Administration"
        }
    }
}

extension Policy {
    /// The one table of roles: the tenant kinds where each exists and who grants it. Nobody changes their own roles.
    /// migrations/0019_role_administration.sql (and 0028, which adds `counsellor`) holds the same table for the database
    /// (`app_roles_offered`, `users_roles_guard`); `RoleAdministrationTests` compares the two.
    public static let roleTable: [Role: (kinds: Set<String>, grantedBy: RoleGrantor)] = [
        .platformAdmin: (["platform"], .platformAdministration),
        .districtCoordinator: (["district"], .districtCoordination),
        .districtAssistant: (["district"], .districtCoordination),
        .steeringMember: (["district", "municipality", "carrier", "authority"], .districtCoordination),
        .tenantAdmin: (["district", "municipality", "carrier", "authority"], .tenantAdministration),
        .teamLead: (["municipality", "carrier"], .tenantAdministration),
        .caseManager: (["municipality", "carrier"], .tenantAdministration),
        .abhOfficer: (["authority"], .tenantAdministration),
        // Counselling services are run by carriers and by authorities (a town's Jugendamt or Sozialamt is an authority tenant).
        .counsellor: (["carrier", "authority"], .tenantAdministration),
        .partner: (["district", "municipality", "carrier", "authority"], .tenantAdministration),
    ]

    /// The roles an account of a tenant of this kind (`platform`, `district`, `municipality`, `carrier`, `authority`) may hold.
    public static func rolesOffered(by tenantKind: String) -> [Role] {
        Role.allCases.filter { roleTable[$0]?.kinds.contains(tenantKind) == true }
    }

    /// Whether `actor` may grant `role` to (or take it from) an account of `tenant`. Whether the tenant's kind
    /// has the role at all is `rolesOffered(by:)`'s question; that it is not the actor's own account, the caller's.
    public func mayGrant(_ role: Role, in tenant: TenantRef, actor: Identity) -> Bool {
        if actor.has(.platformAdmin) { return true }
        switch Self.roleTable[role]?.grantedBy {
        case .districtCoordination:
            return actor.has(.districtCoordinator) && actor.tenant.kind == "district" && tenant.ownDistrictID == actor.tenant.id
        case .tenantAdministration:
            return actor.has(.tenantAdmin) && tenant.id == actor.tenant.id
        case .platformAdministration, nil:
            return false
        }
    }

    /// The roles `actor` may set on accounts of `tenant`: those its kind has and the actor may grant (the page offers these).
    public func grantableRoles(in tenant: TenantRef, by actor: Identity) -> [Role] {
        Self.rolesOffered(by: tenant.kind).filter { mayGrant($0, in: tenant, actor: actor) }
    }

    /// Whether `actor` administers the accounts of `tenant` (creates them for any role it may grant, deactivates,
    /// renames): its tenant administration or the platform's. A coordinator only grants the coordination roles.
    public func administersAccounts(of tenant: TenantRef, actor: Identity) -> Bool {
        actor.has(.platformAdmin) || (actor.has(.tenantAdmin) && tenant.id == actor.tenant.id)
    }
}
