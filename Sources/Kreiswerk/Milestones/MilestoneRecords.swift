import Foundation
import Logging
import PostgresNIO

/// The milestone plan in PostgreSQL (`milestone_tasks`, migration 0048).
enum MilestoneRecords {
    /// The reader's district's tasks (every account of the district reads them: `milestone_plan_tasks()`), overdue as of `day`.
    static func tasks(asOf day: Day, on connection: PostgresConnection, logger: Logger) async throws -> [MilestoneTask] {
        let rows = try await connection.query(
            """
            SELECT id, key, building_block, heading, title, half_years, "position", status, responsible, responsible_tenant,
                   responsible_tenant_name, note, version, changed_by
            FROM milestone_plan_tasks()
            """,
            logger: logger
        )
        var found: [MilestoneTask] = []
        for try await row in rows {
            let columns = try row.decode(
                (UUID, String?, String, String?, String, [String], Int, String, String?, String?, String?, String?, Int, String?).self
            )
            let status = MilestoneStatus(rawValue: columns.7) ?? .planned
            found.append(
                MilestoneTask(
                    id: columns.0,
                    key: columns.1,
                    buildingBlock: columns.2,
                    heading: columns.3,
                    title: columns.4,
                    halfYears: columns.5,
                    status: status.rawValue,
                    statusLabel: status.label,
                    responsible: columns.8,
                    responsibleTenant: columns.9,
                    responsibleTenantName: columns.10,
                    note: columns.11,
                    version: columns.12,
                    changedBy: columns.13,
                    overdue: MilestoneTask.isOverdue(halfYears: columns.5, status: status, on: day),
                    position: columns.6
                )
            )
        }
        return found
    }

    /// The district and its own tenants (slug → id, name), to name the responsible tenant.
    static func districtTenants(
        of district: UUID,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws -> [(
        slug: String, id: UUID, name: String
    )] {
        let rows = try await connection.query(
            """
            SELECT slug, id, name FROM tenants
            WHERE active AND (id = \(district) OR district_id = \(district))
            ORDER BY id <> \(district), name
            """,
            logger: logger
        )
        var found: [(slug: String, id: UUID, name: String)] = []
        for try await (slug, id, name) in rows.decode((String, UUID, String).self) { found.append((slug, id, name)) }
        return found
    }

    /// Changes a task's status, who and note if its version is still `version`; false when it is not (or not there).
    static func update(
        _ id: UUID,
        version: Int,
        status: MilestoneStatus,
        responsible: String?,
        responsibleTenant: UUID?,
        note: String?,
        by user: UUID,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws -> Bool {
        try await !connection.query(
            """
            UPDATE milestone_tasks SET status = \(status.rawValue), responsible = \(responsible), responsible_tenant_id = \(responsibleTenant),
                   note = \(note), version = version + 1, changed_by = \(user), changed_at = now()
            WHERE id = \(id) AND version = \(version)
            RETURNING 1
            """,
            logger: logger
        ).collect().isEmpty
    }

    /// Adds a task at the end of its building block; its id.
    static func insert(
        district: UUID,
        buildingBlock: BuildingBlock,
        heading: String?,
        title: String,
        halfYears: [String],
        status: MilestoneStatus,
        responsible: String?,
        responsibleTenant: UUID?,
        note: String?,
        by user: UUID,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws -> UUID {
        let rows = try await connection.query(
            """
            INSERT INTO milestone_tasks (tenant_id, building_block, heading, title, half_years, position, status, responsible,
                                         responsible_tenant_id, note, changed_by)
            SELECT \(district), \(buildingBlock.rawValue), \(heading), \(title), \(halfYears),
                   coalesce(max(position), 0) + 1, \(status.rawValue), \(responsible), \(responsibleTenant), \(note), \(user)
            FROM milestone_tasks WHERE tenant_id = \(district) AND building_block = \(buildingBlock.rawValue)
            RETURNING id
            """,
            logger: logger
        ).collect()
        return try rows[0].decode(UUID.self)
    }
}
