import Foundation
import Logging
import PostgresNIO

/// A tenant as the catalogue holds it.
public struct StoredTenant: Sendable, Equatable {
    public var id: UUID
    public var tenant: Tenant
    public var active: Bool
    /// False for a tenant onboarded through the API that no file names yet.
    public var managedByFiles: Bool = true
}

/// The tenant catalogue in PostgreSQL: reading it, and bringing it in line with `tenants/`.
///
/// Staff shares are tenant-owned rows under forced row-level security, so even the
/// owner role reads and writes them one tenant at a time, acting as that tenant.
public struct TenantCatalogue: Sendable {
    /// Serialises concurrent `tenants apply` runs.
    static let applyLockKey: Int64 = 0x4B52_4557_5445_4E41  // "KREWTENA"

    public let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// What `apply` would do, changing nothing.
    public func plan(_ desired: [Tenant], deactivateMissing: Bool = false) async throws -> TenantPlan {
        try await database.withTransaction { connection in
            TenantPlan.between(stored: try await stored(on: connection), desired: desired, deactivateMissing: deactivateMissing)
        }
    }

    /// Brings the catalogue in line with `desired` in one transaction and returns what it did.
    public func apply(_ desired: [Tenant], deactivateMissing: Bool = false) async throws -> TenantPlan {
        try await database.withTransaction { connection in
            _ = try await connection.query("SELECT pg_advisory_xact_lock(\(Self.applyLockKey))", logger: database.logger).collect()
            let current = try await stored(on: connection)
            let plan = TenantPlan.between(stored: current, desired: desired, deactivateMissing: deactivateMissing)
            guard !plan.isEmpty else { return plan }

            var ids = Dictionary(uniqueKeysWithValues: current.map { ($0.tenant.slug, $0.id) })
            for tenant in plan.creates { ids[tenant.slug] = UUID() }
            let created = Set(plan.creates.map(\.slug))
            let updated = Set(plan.updates.map(\.slug))
            let currentShares = Dictionary(uniqueKeysWithValues: current.map { ($0.tenant.slug, $0.tenant.staffShares) })
            for tenant in desired where created.contains(tenant.slug) || updated.contains(tenant.slug) {
                try await write(tenant, ids: ids, isNew: created.contains(tenant.slug), on: connection)
                try await writeShares(tenant, id: ids[tenant.slug]!, previous: currentShares[tenant.slug] ?? [:], on: connection)
                try await connection.query(
                    "UPDATE tenants SET staff_waivers = \(Self.waiversJSON(tenant.staffWaivers))::jsonb WHERE id = \(ids[tenant.slug]!)",
                    logger: database.logger
                )
            }
            if deactivateMissing {
                for slug in plan.missing {
                    try await connection.query(
                        "UPDATE tenants SET active = false, updated_at = now() WHERE slug = \(slug)",
                        logger: database.logger
                    )
                }
            }
            return plan
        }
    }

    /// Every tenant, or those of one district (the district itself included), in a stable order.
    public func list(district: String? = nil) async throws -> [StoredTenant] {
        try await database.withTransaction { connection in
            let all = try await stored(on: connection)
            guard let district else { return all }
            guard all.contains(where: { $0.tenant.slug == district && $0.tenant.kind == .district }) else {
                throw TenantNotFound(slug: district, expectedKind: .district)
            }
            return all.filter { $0.tenant.slug == district || $0.tenant.district == district }
        }
    }

    // MARK: - SQL

    private func stored(on connection: PostgresConnection) async throws -> [StoredTenant] {
        let rows = try await connection.query(
            """
            SELECT t.id, t.slug, t.name, t.kind, d.slug, c.slug, t.organisational_unit,
                   t.has_own_foreigners_authority, t.has_youth_office, t.has_integration_council,
                   t.contact_email, t.contact_phone, t.active, t.managed_by, t.reminder_rules::text
            FROM tenants t
            LEFT JOIN tenants d ON d.id = t.district_id
            LEFT JOIN tenants c ON c.id = t.case_management_by
            WHERE t.kind <> 'platform'
            ORDER BY array_position(ARRAY['district', 'municipality', 'carrier', 'authority'], t.kind), t.slug
            """,
            logger: database.logger
        )
        var tenants: [StoredTenant] = []
        for try await row in rows.decode(
            (UUID, String, String, String, String?, String?, String?, Bool?, Bool?, Bool?, String?, String?, Bool, String, String?).self
        ) {
            let tenant = Tenant(
                slug: row.1,
                name: row.2,
                kind: TenantKind(rawValue: row.3) ?? .carrier,
                district: row.4,
                caseManagementBy: row.5,
                organisationalUnit: row.6,
                hasOwnForeignersAuthority: row.7,
                hasYouthOffice: row.8,
                hasIntegrationCouncil: row.9,
                contactEmail: row.10,
                contactPhone: row.11,
                reminderRules: ReminderRules.decode(json: row.14)
            )
            tenants.append(StoredTenant(id: row.0, tenant: tenant, active: row.12, managedByFiles: row.13 == "files"))
        }
        for index in tenants.indices {
            tenants[index].tenant.staffShares = try await staffShares(of: tenants[index].id, on: connection)
        }
        for try await (id, json) in try await connection.query(
            "SELECT id, staff_waivers::text FROM tenants WHERE staff_waivers IS NOT NULL",
            logger: database.logger
        ).decode((UUID, String).self) {
            guard let index = tenants.firstIndex(where: { $0.id == id }) else { continue }
            let reasons = (try? JSONDecoder().decode([String: String].self, from: Data(json.utf8))) ?? [:]
            tenants[index].tenant.staffWaivers = Dictionary(
                uniqueKeysWithValues: reasons.compactMap { key, reason in StaffProgramme(rawValue: key).map { ($0, reason) } }
            )
        }
        return tenants
    }

    /// The waivers as the `staff_waivers` column holds them ({"coordination": "reason"}); nil when there are none.
    static func waiversJSON(_ waivers: [StaffProgramme: String]) -> String? {
        guard !waivers.isEmpty else { return nil }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return (try? encoder.encode(Dictionary(uniqueKeysWithValues: waivers.map { ($0.key.rawValue, $0.value) }))).map {
            String(decoding: $0, as: UTF8.self)
        }
    }

    private func staffShares(of tenant: UUID, on connection: PostgresConnection) async throws -> [StaffShareKey: FullTimeEquivalent] {
        try await connection.actAs(tenant: tenant, logger: database.logger)
        let rows = try await connection.query(
            "SELECT programme, year, (fte * 100)::integer FROM tenant_staff_shares WHERE tenant_id = \(tenant)",
            logger: database.logger
        )
        var shares: [StaffShareKey: FullTimeEquivalent] = [:]
        for try await (programme, year, hundredths) in rows.decode((String, Int, Int).self) {
            guard let programme = StaffProgramme(rawValue: programme) else { continue }
            shares[StaffShareKey(programme, year)] = FullTimeEquivalent(hundredths: hundredths)
        }
        _ = try await connection.query("SELECT set_config('app.tenant_id', '', true)", logger: database.logger).collect()
        return shares
    }

    private func write(_ tenant: Tenant, ids: [String: UUID], isNew: Bool, on connection: PostgresConnection) async throws {
        let id = ids[tenant.slug]!
        let district = tenant.district.flatMap { ids[$0] }
        let delegate = tenant.caseManagementBy.flatMap { ids[$0] }
        if isNew {
            try await connection.query(
                """
                INSERT INTO tenants (id, slug, name, kind, district_id, case_management_by, organisational_unit,
                    has_own_foreigners_authority, has_youth_office, has_integration_council, contact_email, contact_phone, reminder_rules)
                VALUES (\(id), \(tenant.slug), \(tenant.name), \(tenant.kind.rawValue), \(district), \(delegate), \(tenant.organisationalUnit),
                    \(tenant.hasOwnForeignersAuthority), \(tenant.hasYouthOffice), \(tenant.hasIntegrationCouncil),
                    \(tenant.contactEmail), \(tenant.contactPhone), \(tenant.reminderRules?.json)::jsonb)
                """,
                logger: database.logger
            )
        } else {
            try await connection.query(
                """
                UPDATE tenants SET name = \(tenant.name), kind = \(tenant.kind.rawValue), district_id = \(district),
                    case_management_by = \(delegate), organisational_unit = \(tenant.organisationalUnit),
                    has_own_foreigners_authority = \(tenant.hasOwnForeignersAuthority), has_youth_office = \(tenant.hasYouthOffice),
                    has_integration_council = \(tenant.hasIntegrationCouncil), contact_email = \(tenant.contactEmail),
                    contact_phone = \(tenant.contactPhone), reminder_rules = \(tenant.reminderRules?.json)::jsonb, active = true, managed_by = 'files', updated_at = now()
                WHERE id = \(id)
                """,
                logger: database.logger
            )
        }
    }

    private func writeShares(
        _ tenant: Tenant,
        id: UUID,
        previous: [StaffShareKey: FullTimeEquivalent],
        on connection: PostgresConnection
    ) async throws {
        guard tenant.staffShares != previous else { return }
        try await connection.actAs(tenant: id, logger: database.logger)
        for key in previous.keys where tenant.staffShares[key] == nil {
            try await connection.query(
                "DELETE FROM tenant_staff_shares WHERE tenant_id = \(id) AND programme = \(key.programme.rawValue) AND year = \(key.year)",
                logger: database.logger
            )
        }
        for (key, fte) in tenant.staffShares where previous[key] != fte {
            try await connection.query(
                """
                INSERT INTO tenant_staff_shares (tenant_id, programme, year, fte)
                VALUES (\(id), \(key.programme.rawValue), \(key.year), \(fte.hundredths)::numeric / 100)
                ON CONFLICT (tenant_id, programme, year) DO UPDATE SET fte = excluded.fte
                """,
                logger: database.logger
            )
        }
        _ = try await connection.query("SELECT set_config('app.tenant_id', '', true)", logger: database.logger).collect()
    }
}

/// A slug that names no tenant (of the expected kind).
public struct TenantNotFound: Error, CustomStringConvertible {
    public var slug: String
    public var expectedKind: TenantKind?
    public var description: String {
        "no \(expectedKind?.rawValue ?? "tenant") with the slug '\(slug)' is in the catalogue (see kreiswerk tenants list)"
    }
}
