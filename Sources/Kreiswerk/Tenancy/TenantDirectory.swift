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

        enum CodingKeys: String, CodingKey {
            case id, slug, name, kind, district, active
            case caseManagementBy = "case_management_by", managedBy = "managed_by"
        }
    }

    /// The tenants an identity may see: all (platform), its district's (district roles), or its own.
    public static func visible(to identity: Identity, policy: Policy, on connection: PostgresConnection, logger: Logger) async throws -> [Summary] {
        let scope = policy.scope(of: identity, for: .viewTenants)
        let district = identity.tenant.ownDistrictID
        let rows = try await connection.query(
            """
            SELECT t.id, t.slug, t.name, t.kind, d.slug, c.slug, t.active, t.managed_by
            FROM tenants t LEFT JOIN tenants d ON d.id = t.district_id LEFT JOIN tenants c ON c.id = t.case_management_by
            WHERE t.kind <> 'platform' AND (\(scope == .all)
               OR t.id = \(identity.tenant.id)
               OR (\(scope == .district) AND \(district)::uuid IS NOT NULL AND (t.id = \(district) OR t.district_id = \(district))))
            ORDER BY coalesce(d.slug, t.slug), array_position(ARRAY['district', 'municipality', 'carrier', 'authority'], t.kind), t.slug
            """,
            logger: logger
        )
        var tenants: [Summary] = []
        for try await (id, slug, name, kind, district, delegate, active, managedBy) in rows.decode(
            (UUID, String, String, String, String?, String?, Bool, String).self
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
                    managedBy: managedBy
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
