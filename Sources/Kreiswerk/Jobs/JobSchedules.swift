import Foundation
import Logging
import PostgresNIO

/// Recurring jobs: a cron expression in the district's time zone and the platform job it queues.
///
/// Every worker may fire schedules; the period is claimed by one UPDATE that moves
/// `last_period` forward, so each period fires once however many workers run. After downtime
/// only the latest missed tick fires (once), not every tick that was missed.
public struct JobSchedules: Sendable {
    public struct Schedule: Sendable {
        public var name: String
        public var cron: CronSchedule
        public var kind: JobKind

        public init(_ name: String, cron: CronSchedule, kind: JobKind) {
            self.name = name
            self.cron = cron
            self.kind = kind
        }
    }

    /// In the order a sweep runs them.
    public let schedules: [Schedule]

    public init(_ schedules: [Schedule]) {
        self.schedules = schedules
    }

    /// Writes the definitions, so operators see them and every worker agrees on them.
    public func install(on database: Database) async throws {
        try await database.withTenant(JobQueue.platformTenant) { connection in
            for schedule in schedules {
                try await connection.query(
                    """
                    INSERT INTO job_schedules (name, cron, time_zone, kind) VALUES (\(schedule.name), \(schedule.cron.expression),
                        \(schedule.cron.timeZone.identifier), \(schedule.kind.name))
                    ON CONFLICT (name) DO UPDATE SET cron = excluded.cron, time_zone = excluded.time_zone, kind = excluded.kind,
                        updated_at = now()
                    WHERE (job_schedules.cron, job_schedules.time_zone, job_schedules.kind) IS DISTINCT FROM (excluded.cron, excluded.time_zone, excluded.kind)
                    """,
                    logger: database.logger
                )
            }
        }
    }

    /// Fires every schedule whose latest tick at `now` has not fired yet; returns the names fired here.
    @discardableResult
    public func fireDue(at now: Date, on database: Database) async throws -> [String] {
        var fired: [String] = []
        for schedule in schedules {
            guard let tick = schedule.cron.latest(atOrBefore: now) else { continue }
            let won = try await database.withTenant(JobQueue.platformTenant) { connection in
                let claimed =
                    try await connection.query(
                        """
                        UPDATE job_schedules SET last_period = \(tick), last_fired_at = now()
                        WHERE name = \(schedule.name) AND (last_period IS NULL OR last_period < \(tick))
                        RETURNING name
                        """,
                        logger: database.logger
                    ).collect().count == 1
                if claimed {
                    try await JobQueue.enqueue(
                        schedule.kind,
                        tenant: JobQueue.platformTenant,
                        payload: ["as_of": now.formatted(.iso8601), "period": tick.formatted(.iso8601)],
                        on: connection,
                        logger: database.logger
                    )
                }
                return claimed
            }
            if won {
                fired.append(schedule.name)
                database.logger.info("schedule fired", metadata: ["schedule": "\(schedule.name)", "period": "\(tick.formatted(.iso8601))"])
            }
        }
        return fired
    }

    /// Runs every schedule's job as of `instant`, one schedule after the other in their order (the
    /// rules before the digest that reports on them), each followed by every job it caused
    /// (`kreiswerk jobs sweep --as-of`). The period bookkeeping is left alone: the rules are
    /// idempotent, so a repeated sweep notifies nobody twice. Returns how many jobs ran.
    public func sweep(asOf instant: Date, with worker: JobWorker) async throws -> Int {
        var ran = 0
        for schedule in schedules {
            try await worker.database.withTenant(JobQueue.platformTenant) { connection in
                try await JobQueue.enqueue(
                    schedule.kind,
                    tenant: JobQueue.platformTenant,
                    payload: ["as_of": instant.formatted(.iso8601)],
                    on: connection,
                    logger: worker.database.logger
                )
            }
            ran += try await worker.runUntilIdle()
        }
        return ran
    }

    /// A schedule as operators see it.
    public struct Listed: Sendable, Codable, Equatable {
        public var name: String
        public var cron: String
        public var timeZone: String
        public var kind: String
        public var lastPeriod: Date?
        public var lastFiredAt: Date?
        public var nextRun: Date?
    }

    /// The schedules with when they fired last and fire next, in the connection's transaction (every tenant reads them).
    public func list(on connection: PostgresConnection, logger: Logger) async throws -> [Listed] {
        var stored: [String: (Date?, Date?)] = [:]
        for try await (name, period, fired) in try await connection.query(
            "SELECT name, last_period, last_fired_at FROM job_schedules",
            logger: logger
        ).decode((String, Date?, Date?).self) {
            stored[name] = (period, fired)
        }
        return schedules.map { schedule in
            Listed(
                name: schedule.name,
                cron: schedule.cron.expression,
                timeZone: schedule.cron.timeZone.identifier,
                kind: schedule.kind.name,
                lastPeriod: stored[schedule.name]?.0,
                lastFiredAt: stored[schedule.name]?.1,
                nextRun: schedule.cron.next(after: Date())
            )
        }
    }
}
