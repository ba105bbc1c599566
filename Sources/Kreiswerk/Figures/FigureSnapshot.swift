import Foundation
import Logging
import PostgresNIO

/// A district's snapshot as the database keeps it: exact counts (and funded shares) per unit,
/// measure, key and month. It never leaves the Figures folder unsuppressed: `FiguresReport`
/// turns it into what may be shown.
struct FigureSnapshot: Sendable {
    struct Row: Sendable {
        var unitID: UUID
        var measure: String
        var key: String
        /// "2026-07-01" for a monthly series, nil for the state at the time of the snapshot.
        var month: String?
        var value: Int
    }

    var district: UUID
    var computedAt: Date
    var rows: [Row]
}

/// The SQL side of the figures: reading the reader's district's snapshot and recomputing it
/// (both through SECURITY DEFINER functions of migration 0010, in a transaction acting for a tenant).
enum FigureSnapshots {
    /// The district whose figures the acting user may read (nil: none) and the time of its snapshot (nil: none yet).
    static func stamp(on connection: PostgresConnection, logger: Logger) async throws -> (district: UUID?, computedAt: Date?) {
        let row = try await connection.query("SELECT district_id, computed_at FROM district_figures_stamp()", logger: logger).collect().first
        return try row?.decode((UUID?, Date?).self) ?? (nil, nil)
    }

    /// The state rows and the months from `since` to `until` (first days) of the reader's district.
    static func read(
        district: UUID,
        computedAt: Date,
        since: String,
        until: String,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws -> FigureSnapshot {
        let rows = try await connection.query(
            "SELECT unit_id, measure, key, to_char(month, 'YYYY-MM-DD'), value FROM district_figures_read(\(since)::date, \(until)::date)",
            logger: logger
        )
        var snapshot = FigureSnapshot(district: district, computedAt: computedAt, rows: [])
        for try await (unit, measure, key, month, value) in rows.decode((UUID, String, String, String?, Int).self) {
            snapshot.rows.append(.init(unitID: unit, measure: measure, key: key, month: month, value: value))
        }
        return snapshot
    }

    /// Recomputes the acting district's snapshot; returns the number of rows written.
    @discardableResult
    static func refresh(on connection: PostgresConnection, logger: Logger) async throws -> Int {
        try await connection.query("SELECT district_figures_refresh()", logger: logger).collect().first?.decode(Int.self) ?? 0
    }
}
