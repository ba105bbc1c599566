import Foundation
import Logging
import PostgresNIO

/// The district's figures for its coordinators, assistants and steering members: the dashboard
/// (state now, the last twelve months), the half-year cut for the state's programme controlling
/// (audited), and a refresh on demand. Every read runs acting for the identity's tenant and user;
/// the database decides which district that reaches (`district_figures_reader_district()`).
public struct DistrictFigures: Sendable {
    let database: Database
    let cache: FiguresCache

    init(database: Database, cache: FiguresCache = FiguresCache()) {
        self.database = database
        self.cache = cache
    }

    /// Exports serve the state's programme controlling; the audit trail records them with this purpose.
    static let purpose = "programme_controlling"

    var logger: Logger { database.logger }

    /// The dashboard: the state at the last snapshot and the twelve months up to `today`'s.
    public func dashboard(for identity: Identity, today: Day = .today) async throws -> FiguresReport? {
        let current = Month(today)
        return try await report(for: identity, months: (0..<12).reversed().map { current.minus($0) }, halfYear: nil, audit: nil)
    }

    /// The figures of a half-year, as exported for the state (`format`: json, csv or print); recorded in the audit trail.
    public func halfYear(_ halfYear: HalfYear, format: String, for identity: Identity, clientAddress: String?) async throws -> FiguresReport? {
        let months = (0..<6).map { Month(year: halfYear.year, month: (halfYear.half - 1) * 6 + 1 + $0) }
        let event = AuditEvent(
            "figures.exported",
            by: identity,
            objectType: "district_figures",
            objectID: halfYear.description,
            detail: ["half_year": halfYear.description, "format": format],
            clientAddress: clientAddress
        )
        return try await report(for: identity, months: months, halfYear: halfYear, audit: event)
    }

    /// Queues a fresh snapshot for the identity's district ("jetzt aktualisieren"); at most one per minute.
    /// Only staff of the district itself may: the job runs acting as the district.
    public func requestRefresh(by identity: Identity, clientAddress: String?, now: Date = Date()) async throws -> Bool {
        guard identity.tenant.kind == "district" else {
            throw DomainError.forbidden(
                "Die Kennzahlen aktualisiert die Koordinierungsstelle des Kreises; sie werden sonst alle 15 Minuten neu berechnet."
            )
        }
        return try await database.withTenant(identity.tenant.id, user: identity.userID) { connection in
            guard try await FigureSnapshots.stamp(on: connection, logger: logger).district == identity.tenant.id else {
                throw DomainError.forbidden("Ihre Rolle erlaubt es nicht, die Kennzahlen des Kreises zu aktualisieren.")
            }
            let minute = Int(now.timeIntervalSince1970 / 60)
            let queued =
                try await JobQueue.enqueue(
                    FiguresJobs.refresh,
                    tenant: identity.tenant.id,
                    uniqueKey: "manual:\(minute)",
                    on: connection,
                    logger: logger
                ) != nil
            try await AuditLog.record(
                AuditEvent(
                    "figures.refresh_requested",
                    by: identity,
                    objectType: "district_figures",
                    detail: ["queued": "\(queued)"],
                    clientAddress: clientAddress
                ),
                on: connection,
                logger: logger
            )
            return queued
        }
    }

    /// The figures' JSON as the API sends it (encoded once per snapshot and period).
    func json(_ report: FiguresReport) throws -> ByteBuffer {
        try cache.json(report, key: Self.key(report))
    }

    static func key(_ report: FiguresReport) -> String {
        let first = report.total.months.first?.month ?? ""
        let last = report.total.months.last?.month ?? ""
        return FiguresCache.key(district: report.districtID, computedAt: report.computedAt, since: "\(first)-01", until: "\(last)-01")
    }

    private func report(for identity: Identity, months: [Month], halfYear: HalfYear?, audit: AuditEvent?) async throws -> FiguresReport? {
        try await database.withTenant(identity.tenant.id, user: identity.userID) { connection in
            try await report(on: connection, identity: identity, months: months, halfYear: halfYear, audit: audit)
        }
    }

    /// The figures of `months` in a transaction the caller runs acting for `identity` (the experience report's service,
    /// which reads them in its own transaction); nil when the district has no snapshot yet.
    func report(
        on connection: PostgresConnection,
        identity: Identity,
        months: [Month],
        halfYear: HalfYear?,
        audit: AuditEvent?
    ) async throws -> FiguresReport? {
        var (district, computedAt) = try await FigureSnapshots.stamp(on: connection, logger: logger)
        guard let districtID = district else {
            throw DomainError.forbidden("Die Kennzahlen des Kreises sehen die Koordinierungsstelle, ihre Assistenz und die Lenkungsgruppe.")
        }
        if computedAt == nil, districtID == identity.tenant.id {
            // The district's first visit before the scheduler's first run: compute it now, once.
            try await FigureSnapshots.refresh(on: connection, logger: logger)
            computedAt = try await FigureSnapshots.stamp(on: connection, logger: logger).computedAt
        }
        guard let computedAt else { return nil }
        if var audit {
            audit.purpose = Self.purpose
            try await AuditLog.record(audit, on: connection, logger: logger)
        }
        let since = months.first!.firstDay
        let until = months.last!.firstDay
        let key = FiguresCache.key(district: districtID, computedAt: computedAt, since: since, until: until)
        if let cached = cache.report(key) { return cached }
        let snapshot = try await FigureSnapshots.read(
            district: districtID,
            computedAt: computedAt,
            since: since,
            until: until,
            on: connection,
            logger: logger
        )
        let units = try await connection.query(
            """
            SELECT t.id, t.slug, t.name, t.kind, c.name FROM tenants t LEFT JOIN tenants c ON c.id = t.case_management_by
            WHERE t.id = \(districtID) OR t.district_id = \(districtID)
            """,
            logger: logger
        ).collect().map { row in
            let (id, slug, name, kind, carrier) = try row.decode((UUID, String, String, String, String?).self)
            return FiguresReport.Unit(id: id, slug: slug, name: name, kind: kind, caseManagementBy: carrier)
        }
        let services = try await connection.query(
            "SELECT key, name FROM services WHERE district_id = \(districtID) ORDER BY name",
            logger: logger
        ).collect().map { try $0.decode((String, String).self) }.map { (key: $0.0, name: $0.1) }
        let rules = try await ReminderSweep.rules(for: districtID, on: connection, logger: logger)
        guard let district = units.first(where: { $0.id == districtID }) else { return nil }
        let report = FiguresReport.build(
            snapshot: snapshot,
            district: district,
            units: units,
            services: services,
            months: months,
            halfYear: halfYear,
            suppression: Suppression(threshold: rules.suppressCountsBelow)
        )
        cache.store(report, key: key)
        return report
    }
}
