import Foundation
import Logging
import PostgresNIO

/// Every job kind and recurring schedule of Kreiswerk, in one place.
public enum Jobs {
    /// Does nothing: for benchmarks and for checking that workers run (`kreiswerk jobs enqueue noop`).
    public static let noop = JobKind("noop", queue: "default", run: .standalone { _ in })

    /// Holds a transaction open for `seconds` (at most 60), then records that it ran in the audit
    /// trail, in the same transaction as its completion: for operators to check that a killed
    /// worker's job is taken over after its lease and takes effect once (`jobs enqueue diagnostics.sleep`).
    static let sleep = JobKind(
        "diagnostics.sleep",
        maxAttempts: 3,
        timeout: .seconds(65),
        run: .inTenantTransaction { connection, context in
            let seconds = min(max(Int(context.job.payload["seconds"] ?? "") ?? 5, 0), 60)
            try await Task.sleep(for: .seconds(seconds))
            try await AuditLog.record(
                AuditEvent(
                    "diagnostics.slept",
                    tenant: context.job.tenantID,
                    actor: nil,
                    objectType: "job",
                    objectID: "\(context.job.id)",
                    detail: ["seconds": "\(seconds)", "attempt": "\(context.job.attempt)"]
                ),
                on: connection,
                logger: context.logger
            )
        }
    )

    /// Removes finished jobs after two weeks.
    static let purge = JobKind(
        "jobs.purge",
        run: .inTenantTransaction { connection, context in
            let removed = try await connection.query("SELECT job_purge('14 days')", logger: context.logger).collect().first?.decode(Int.self) ?? 0
            context.logger.info("purged finished jobs", metadata: ["jobs": "\(removed)"])
        }
    )

    /// The rules of one tenant, acting as that tenant.
    static let remindersTenant = JobKind(
        "reminders.tenant",
        timeout: .seconds(300),
        run: .inTenantTransaction { connection, context in
            let report = try await ReminderSweep.run(tenant: context.job.tenantID, asOf: context.now, on: connection, logger: context.logger)
            context.logger.info("reminder rules ran", metadata: ["tenant": "\(context.job.tenantID)", "result": "\(report)"])
        }
    )

    public static func kinds(mailer: Mailer) -> JobKinds {
        let digestUser = MailJobs.digestUser(mailer)
        let digestTenant = MailJobs.digestTenant(digestUser)
        return JobKinds([
            noop, sleep, purge, remindersTenant, fanOut("reminders.sweep", to: remindersTenant), MailJobs.notification(mailer), digestUser,
            digestTenant,
            fanOut("mail.digest", to: digestTenant),
            FiguresJobs.refresh, fanOut("figures.sweep", to: FiguresJobs.refresh, districtsOnly: true),
        ])
    }

    /// Daily in Europe/Berlin: the rules at 06:30 (before the working day), the e-mail digest at 07:00, the purge at night.
    /// A sweep runs them in this order.
    public static func schedules(_ kinds: JobKinds) -> JobSchedules {
        JobSchedules([
            .init("reminders", cron: try! CronSchedule("30 6 * * *"), kind: kinds["reminders.sweep"]!),
            .init("mail-digest", cron: try! CronSchedule("0 7 * * *"), kind: kinds["mail.digest"]!),
            .init("jobs-purge", cron: try! CronSchedule("15 3 * * *"), kind: kinds["jobs.purge"]!),
            // The district figures' snapshots, every quarter of an hour.
            .init("figures", cron: try! CronSchedule("*/15 * * * *"), kind: kinds["figures.sweep"]!),
        ])
    }

    /// A platform job that queues `target` once for every active tenant, each to run acting as that tenant,
    /// all in one transaction with the fan-out's own completion.
    /// With `districtsOnly`, only for the districts.
    static func fanOut(_ name: String, to target: JobKind, districtsOnly: Bool = false) -> JobKind {
        JobKind(
            name,
            run: .inTenantTransaction { connection, context in
                let tenants = try await connection.query(
                    "SELECT id FROM tenants WHERE active AND kind <> 'platform' AND (NOT \(districtsOnly) OR kind = 'district') ORDER BY slug",
                    logger: context.logger
                ).collect().map { try $0.decode(UUID.self) }
                let payload = ["as_of": context.now.formatted(.iso8601)]
                for tenant in tenants {
                    try await connection.actAs(tenant: tenant, logger: context.logger)
                    try await JobQueue.enqueue(target, tenant: tenant, payload: payload, on: connection, logger: context.logger)
                }
                try await connection.actAs(tenant: context.job.tenantID, logger: context.logger)
            }
        )
    }
}
