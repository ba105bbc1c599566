import Foundation
import Logging
import PostgresNIO

/// Putting jobs into the queue, and the operators' view of it.
///
/// Enqueueing is an INSERT in the caller's transaction, acting as the caller's tenant: roll the
/// change back and the job is gone; commit it and a worker will run it.
public enum JobQueue {
    /// The platform tenant (`betrieb`), which owns jobs that belong to no customer tenant.
    public static let platformTenant = UUID(uuidString: "00000000-0000-0000-0000-000000000001")!

    /// Queues `kind` for the acting tenant of `connection`'s transaction. With `uniqueKey`, a job of
    /// the same kind and key that exists already wins and nothing is queued. Returns the job id, or nil.
    @discardableResult
    public static func enqueue(
        _ kind: JobKind,
        tenant: UUID,
        payload: JobPayload = [:],
        uniqueKey: String? = nil,
        runAt: Date? = nil,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws -> Int? {
        let json = String(decoding: try JSONEncoder().encode(payload), as: UTF8.self)
        let timeout = Int(kind.timeout.components.seconds)
        return try await connection.query(
            """
            INSERT INTO jobs (tenant_id, queue, kind, payload, priority, run_at, max_attempts, timeout_seconds, unique_key)
            VALUES (\(tenant), \(kind.queue), \(kind.name), \(json)::jsonb, \(kind.priority), coalesce(\(runAt), now()),
                    \(kind.maxAttempts), \(max(timeout, 1)), \(uniqueKey))
            ON CONFLICT (tenant_id, kind, unique_key) WHERE unique_key IS NOT NULL DO NOTHING
            RETURNING id
            """,
            logger: logger
        ).collect().first?.decode(Int.self)
    }

    /// A job as operators see it.
    public struct Listed: Sendable, Codable, Equatable {
        public var id: Int
        public var tenant: String
        public var queue: String
        public var kind: String
        public var payload: JobPayload
        public var priority: Int
        public var state: String
        public var runAt: Date
        public var attempts: Int
        public var maxAttempts: Int
        public var lastError: String?
        public var createdAt: Date
        public var startedAt: Date?
        public var finishedAt: Date?
        public var worker: String?
    }

    /// States an operator may filter by.
    public static let states = ["queued", "running", "succeeded", "parked", "cancelled"]

    /// The newest jobs, optionally of one state and kind. Only the platform tenant may ask.
    public static func list(state: String?, kind: String?, limit: Int, on connection: PostgresConnection, logger: Logger) async throws -> [Listed] {
        let rows = try await connection.query(
            "SELECT id, tenant, queue, kind, payload::text, priority, state, run_at, attempts, max_attempts, last_error, created_at, started_at, finished_at, locked_by FROM job_list(\(state)::text, \(kind)::text, \(limit)::integer)",
            logger: logger
        )
        var jobs: [Listed] = []
        for try await row in rows.decode(
            (Int, String, String, String, String, Int, String, Date, Int, Int, String?, Date, Date?, Date?, String?).self
        ) {
            let payload = (try? JSONDecoder().decode(JobPayload.self, from: Data(row.4.utf8))) ?? [:]
            jobs.append(
                Listed(
                    id: row.0,
                    tenant: row.1,
                    queue: row.2,
                    kind: row.3,
                    payload: payload,
                    priority: row.5,
                    state: row.6,
                    runAt: row.7,
                    attempts: row.8,
                    maxAttempts: row.9,
                    lastError: row.10,
                    createdAt: row.11,
                    startedAt: row.12,
                    finishedAt: row.13,
                    worker: row.14
                )
            )
        }
        return jobs
    }

    /// Counts per queue and state.
    public struct Stats: Sendable, Codable, Equatable {
        public struct Row: Sendable, Codable, Equatable {
            public var queue: String
            public var state: String
            public var jobs: Int
            /// For waiting jobs: how long the oldest due one has waited, in seconds.
            public var lagSeconds: Double
        }
        public var rows: [Row]

        public func count(_ state: String, queue: String? = nil) -> Int {
            rows.filter { $0.state == state && (queue == nil || $0.queue == queue) }.reduce(0) { $0 + $1.jobs }
        }

        public var lagSeconds: Double { rows.map(\.lagSeconds).max() ?? 0 }
    }

    public static func stats(on connection: PostgresConnection, logger: Logger) async throws -> Stats {
        let rows = try await connection.query("SELECT queue, state, jobs, lag_seconds FROM job_stats()", logger: logger)
        var result: [Stats.Row] = []
        for try await (queue, state, jobs, lag) in rows.decode((String, String, Int, Double).self) {
            result.append(.init(queue: queue, state: state, jobs: jobs, lagSeconds: lag))
        }
        return Stats(rows: result)
    }

    /// Runs a parked, cancelled or waiting job again now. False if it is running or finished.
    public static func retry(_ id: Int, on connection: PostgresConnection, logger: Logger) async throws -> Bool {
        try await connection.query("SELECT job_retry(\(id))", logger: logger).collect().first?.decode(String?.self) != nil
    }

    /// Cancels a waiting or parked job. False if it is running or finished.
    public static func cancel(_ id: Int, on connection: PostgresConnection, logger: Logger) async throws -> Bool {
        try await connection.query("SELECT job_cancel(\(id))", logger: logger).collect().first?.decode(String?.self) != nil
    }
}
