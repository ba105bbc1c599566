import Foundation
import Logging
import PostgresNIO

/// Reads the tenant catalogue as the runtime role sees it (a platform table every tenant may read).
public enum TenantDirectory {
    static let select = """
        SELECT t.id, t.slug, t.name, t.kind, t.district_id, d.slug FROM tenants t LEFT JOIN tenants d ON d.id = t.district_id
        """

    public static func find(slug: String, on connection: PostgresConnection, logger: Logger) async throws -> TenantRef? {
        try await decode(connection.query("\(unescaped: select) WHERE t.slug = \(slug) AND t.active", logger: logger)).first
    }

    public static func find(id: UUID, on connection: PostgresConnection, logger: Logger) async throws -> TenantRef? {
        try await decode(connection.query("\(unescaped: select) WHERE t.id = \(id)", logger: logger)).first
    }

    /// The municipalities of a district, by name.
    public static func towns(of district: UUID?, on connection: PostgresConnection, logger: Logger) async throws -> [TenantRef] {
        try await decode(
            connection.query(
                "\(unescaped: select) WHERE t.kind = 'municipality' AND t.active AND t.district_id = \(district) ORDER BY t.name",
                logger: logger
            )
        )
    }

    /// A summary of a tenant for lists and the API.
    public struct Summary: Sendable, Codable, Equatable {
        public var id: UUID
        public var slug: String
        public var name: String
        public var kind: String
        public var district: String?
        public var caseManagementBy: String?
        public var active: Bool
        public var managedBy: String
        /// The names of the district and of the carrier carrying out the case management, for pages (which show names, not slugs).
        public var districtName: String? = nil
        public var caseManagementByName: String? = nil

        enum CodingKeys: String, CodingKey {
            case id, slug, name, kind, district, active
            case caseManagementBy = "case_management_by", managedBy = "managed_by", districtName = "district_name"
            case caseManagementByName = "case_management_by_name"
        }
    }

    /// A tenant's page: the summary, and what its tenant file holds (or would hold).
    public struct Detail: Sendable {
        public var summary: Summary
        public var file: Tenant
    }

    /// The file-held fields of a visible tenant; its staff shares are read acting as the tenant (they are its own rows).
    static func detail(of summary: Summary, user: UUID, on connection: PostgresConnection, logger: Logger) async throws -> Detail {
        let row = try await connection.query(
            """
            SELECT organisational_unit, has_own_foreigners_authority, has_youth_office, has_integration_council, contact_email, contact_phone
            FROM tenants WHERE id = \(summary.id)
            """,
            logger: logger
        ).collect().first!.decode((String?, Bool?, Bool?, Bool?, String?, String?).self)
        try await connection.actAs(tenant: summary.id, user: user, logger: logger)
        var shares: [StaffShareKey: FullTimeEquivalent] = [:]
        let rows = try await connection.query(
            "SELECT programme, year, (fte * 100)::integer FROM tenant_staff_shares WHERE tenant_id = \(summary.id)",
            logger: logger
        )
        for try await (programme, year, hundredths) in rows.decode((String, Int, Int).self) {
            guard let programme = StaffProgramme(rawValue: programme) else { continue }
            shares[StaffShareKey(programme, year)] = FullTimeEquivalent(hundredths: hundredths)
        }
        let file = Tenant(
            slug: summary.slug,
            name: summary.name,
            kind: TenantKind(rawValue: summary.kind) ?? .carrier,
            district: summary.district,
            caseManagementBy: summary.caseManagementBy,
            organisationalUnit: row.0,
            hasOwnForeignersAuthority: row.1,
            hasYouthOffice: row.2,
            hasIntegrationCouncil: row.3,
            contactEmail: row.4,
            contactPhone: row.5,
            staffShares: shares
        )
        return Detail(summary: summary, file: file)
    }

    /// The tenants an identity may see: all (platform), its district's (district roles), or its own.
    public static func visible(to identity: Identity, policy: Policy, on connection: PostgresConnection, logger: Logger) async throws -> [Summary] {
        let scope = policy.scope(of: identity, for: .viewTenants)
        let district = identity.tenant.ownDistrictID
        let rows = try await connection.query(
            """
            SELECT t.id, t.slug, t.name, t.kind, d.slug, c.slug, t.active, t.managed_by, d.name, c.name
            FROM tenants t LEFT JOIN tenants d ON d.id = t.district_id LEFT JOIN tenants c ON c.id = t.case_management_by
            WHERE t.kind <> 'platform' AND (\(scope == .all)
               OR t.id = \(identity.tenant.id)
               OR (\(scope == .district) AND \(district)::uuid IS NOT NULL AND (t.id = \(district) OR t.district_id = \(district))))
            ORDER BY coalesce(d.slug, t.slug), array_position(ARRAY['district', 'municipality', 'carrier', 'authority'], t.kind), t.slug
            """,
            logger: logger
        )
        var tenants: [Summary] = []
        for try await (id, slug, name, kind, district, delegate, active, managedBy, districtName, delegateName) in rows.decode(
            (UUID, String, String, String, String?, String?, Bool, String, String?, String?).self
        ) {
            tenants.append(
                Summary(
                    id: id,
                    slug: slug,
                    name: name,
                    kind: kind,
                    district: district,
                    caseManagementBy: delegate,
                    active: active,
                    managedBy: managedBy,
                    districtName: districtName,
                    caseManagementByName: delegateName
                )
            )
        }
        return tenants
    }

    private static func decode(_ rows: PostgresRowSequence) async throws -> [TenantRef] {
        var refs: [TenantRef] = []
        for try await (id, slug, name, kind, districtID, district) in rows.decode((UUID, String, String, String, UUID?, String?).self) {
            refs.append(TenantRef(id: id, slug: slug, name: name, kind: kind, districtID: districtID, district: district))
        }
        return refs
    }
}
