import Foundation

/// The scheduler's part of the figures: one district's snapshot, recomputed acting as that district.
enum FiguresJobs {
    static let refresh = JobKind(
        "figures.refresh",
        maxAttempts: 3,
        timeout: .seconds(600),
        run: .inTenantTransaction { connection, context in
            let rows = try await FigureSnapshots.refresh(on: connection, logger: context.logger)
            context.logger.info("district figures computed", metadata: ["district": "\(context.job.tenantID)", "rows": "\(rows)"])
        }
    )
}
