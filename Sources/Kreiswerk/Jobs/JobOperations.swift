import Foundation
import PostgresNIO

/// The queue as platform administrators operate it (`/api/v1/jobs`, `/betrieb/jobs`, `/metrics`): each call one
/// transaction acting as the operator, whose tenant's policies show every job.
struct JobOperations: Sendable {
    let database: Database
    let schedules: JobSchedules

    /// What operators may do to a job.
    enum Operation: String, CaseIterable, Sendable {
        case retry, cancel

        var action: String { self == .retry ? "job.retried" : "job.cancelled" }
        var newState: String { self == .retry ? "queued" : "cancelled" }
        /// The states a job may be in for the operation: the rule `job_retry` and `job_cancel` (migrations/0007) enforce.
        var fromStates: Set<String> { self == .retry ? ["parked", "cancelled", "queued"] : ["queued", "parked"] }
        func applies(to job: JobQueue.Listed) -> Bool { fromStates.contains(job.state) }
    }

    /// What the operators' page shows.
    struct Board: Sendable {
        var stats: JobQueue.Stats
        var jobs: [JobQueue.Listed]
        var schedules: [JobSchedules.Listed]
    }

    /// The newest jobs, optionally of one state and kind.
    func jobs(state: String?, kind: String?, limit: Int, by identity: Identity) async throws -> [JobQueue.Listed] {
        try await asOperator(identity) { try await JobQueue.list(state: state, kind: kind, limit: limit, on: $0, logger: database.logger) }
    }

    /// Counts per queue and state.
    func stats(by identity: Identity) async throws -> JobQueue.Stats {
        try await asOperator(identity) { try await JobQueue.stats(on: $0, logger: database.logger) }
    }

    /// The counts, the newest 100 jobs (of one state, or of any) and the schedules: the operators' page.
    func board(state: String?, by identity: Identity) async throws -> Board {
        try await read(identity, listing: true, state: state)
    }

    /// The counts and the schedules (`jobs` stays empty).
    func overview(by identity: Identity) async throws -> Board {
        try await read(identity, listing: false, state: nil)
    }

    private func read(_ identity: Identity, listing: Bool, state: String?) async throws -> Board {
        try await asOperator(identity) { connection in
            Board(
                stats: try await JobQueue.stats(on: connection, logger: database.logger),
                jobs: listing ? try await JobQueue.list(state: state, kind: nil, limit: 100, on: connection, logger: database.logger) : [],
                schedules: try await schedules.list(on: connection, logger: database.logger)
            )
        }
    }

    /// Changes the job and records who did it, in one transaction; false if the job is not in a state that allows it.
    func perform(_ operation: Operation, _ id: Int, by identity: Identity, clientAddress: String?) async throws -> Bool {
        try await asOperator(identity) { connection in
            let done =
                operation == .retry
                ? try await JobQueue.retry(id, on: connection, logger: database.logger)
                : try await JobQueue.cancel(id, on: connection, logger: database.logger)
            if done {
                try await AuditLog.record(
                    AuditEvent(operation.action, by: identity, objectType: "job", objectID: "\(id)", clientAddress: clientAddress),
                    on: connection,
                    logger: database.logger
                )
            }
            return done
        }
    }

    private func asOperator<Result: Sendable>(_ identity: Identity, _ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        try await database.withTenant(identity.tenant.id, user: identity.userID, body)
    }
}
