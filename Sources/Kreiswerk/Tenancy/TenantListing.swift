import Foundation

/// The JSON shape of `kreiswerk tenants list --json`: one object per tenant.
public struct TenantListing: Encodable, Sendable {
    public struct Flags: Encodable, Sendable {
        /// nil (null in JSON) where the tenant files do not say.
        var ownForeignersAuthority: Bool?
        var youthOffice: Bool?
        var integrationCouncil: Bool?
        /// Derived: own ABH, Jugendamt and Integrationsrat give a town its own coordination post.
        var entitledToOwnCoordinationPost: Bool

        enum CodingKeys: String, CodingKey {
            case ownForeignersAuthority = "own_foreigners_authority", youthOffice = "youth_office"
            case integrationCouncil = "integration_council", entitledToOwnCoordinationPost = "entitled_to_own_coordination_post"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(ownForeignersAuthority, forKey: .ownForeignersAuthority)
            try container.encode(youthOffice, forKey: .youthOffice)
            try container.encode(integrationCouncil, forKey: .integrationCouncil)
            try container.encode(entitledToOwnCoordinationPost, forKey: .entitledToOwnCoordinationPost)
        }
    }

    public struct Delegation: Encodable, Sendable {
        /// The carrier that carries out this municipality's case management.
        var caseManagementBy: String?
        /// The municipalities whose case management this carrier carries out.
        var actsFor: [String]

        enum CodingKeys: String, CodingKey { case caseManagementBy = "case_management_by", actsFor = "acts_for" }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(caseManagementBy, forKey: .caseManagementBy)
            try container.encode(actsFor, forKey: .actsFor)
        }
    }

    var slug: String
    var name: String
    var kind: String
    var district: String?
    var organisationalUnit: String?
    var active: Bool
    var delegation: Delegation
    var flags: Flags
    /// programme → year → full-time equivalents, exact decimals.
    var staffShares: [String: [String: Decimal]]

    enum CodingKeys: String, CodingKey {
        case slug, name, kind, district, active, delegation, flags
        case organisationalUnit = "organisational_unit", staffShares = "staff_shares"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(slug, forKey: .slug)
        try container.encode(name, forKey: .name)
        try container.encode(kind, forKey: .kind)
        try container.encode(district, forKey: .district)
        try container.encode(organisationalUnit, forKey: .organisationalUnit)
        try container.encode(active, forKey: .active)
        try container.encode(delegation, forKey: .delegation)
        try container.encode(flags, forKey: .flags)
        try container.encode(staffShares, forKey: .staffShares)
    }

    /// The listing of `tenants`, with delegations resolved in both directions.
    public static func of(_ tenants: [StoredTenant]) -> [TenantListing] {
        tenants.map { stored in
            let tenant = stored.tenant
            var shares: [String: [String: Decimal]] = [:]
            for (key, fte) in tenant.staffShares {
                shares[key.programme.rawValue, default: [:]][String(key.year)] = Decimal(string: fte.description)
            }
            return TenantListing(
                slug: tenant.slug,
                name: tenant.name,
                kind: tenant.kind.rawValue,
                district: tenant.district,
                organisationalUnit: tenant.organisationalUnit,
                active: stored.active,
                delegation: Delegation(
                    caseManagementBy: tenant.caseManagementBy,
                    actsFor: tenants.filter { $0.tenant.caseManagementBy == tenant.slug }.map(\.tenant.slug).sorted()
                ),
                flags: Flags(
                    ownForeignersAuthority: tenant.hasOwnForeignersAuthority,
                    youthOffice: tenant.hasYouthOffice,
                    integrationCouncil: tenant.hasIntegrationCouncil,
                    entitledToOwnCoordinationPost: tenant.isEntitledToOwnCoordinationPost
                ),
                staffShares: shares
            )
        }
    }

    /// Pretty, key-sorted JSON, as `tenants list --json` prints it.
    public static func json(_ tenants: [StoredTenant]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(of(tenants)), as: UTF8.self)
    }
}
