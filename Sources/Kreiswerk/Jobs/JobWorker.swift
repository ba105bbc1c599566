import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// Claims due jobs and runs them: in the server (`kreiswerk serve`) or as its own process
/// (`kreiswerk worker`), any number at once on any machine that reaches the database.
///
/// It wakes on `NOTIFY kreiswerk_jobs` and polls as a fallback, claims batches under a lease
/// (`job_claim`, FOR UPDATE SKIP LOCKED), recovers jobs whose worker vanished, fires recurring
/// schedules, and on graceful shutdown finishes the jobs it started and gives back the rest.
public struct JobWorker: Service {
    public struct Configuration: Sendable {
        /// Names this worker in leases and logs; unique per process.
        public var name: String
        /// The queues it serves; nil for all.
        public var queues: [String]?
        /// Jobs claimed per round trip, at most; never more than `concurrency`.
        public var batchSize: Int
        /// Jobs run at once: a claimed batch starts at once, so no job waits out its lease unstarted.
        public var concurrency: Int
        /// How long it sleeps without a notification before it looks again.
        public var pollInterval: Duration
        /// Whether it fires recurring schedules (every worker may; each period fires once).
        public var firesSchedules: Bool

        public init(
            name: String = JobWorker.defaultName(),
            queues: [String]? = nil,
            batchSize: Int = 100,
            concurrency: Int = 16,
            pollInterval: Duration = .seconds(2),
            firesSchedules: Bool = true
        ) {
            self.name = name
            self.queues = queues
            self.batchSize = batchSize
            self.concurrency = concurrency
            self.pollInterval = pollInterval
            self.firesSchedules = firesSchedules
        }
    }

    public static func defaultName() -> String {
        "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier):\(UUID().uuidString.prefix(8).lowercased())"
    }

    public let configuration: Configuration
    public let kinds: JobKinds
    public let database: Database
    public let schedules: JobSchedules
    public let metrics: JobMetrics?
    /// The instant jobs act as of when their payload names none; tests and sweeps inject their own.
    public let clock: @Sendable () -> Date
    let wakeup = Wakeup()

    public init(
        configuration: Configuration = .init(),
        kinds: JobKinds,
        database: Database,
        schedules: JobSchedules,
        metrics: JobMetrics? = nil,
        clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.configuration = configuration
        self.kinds = kinds
        self.database = database
        self.schedules = schedules
        self.metrics = metrics
        self.clock = clock
    }

    var logger: Logger { database.logger }
    /// The kinds this worker can run: it claims no others (a newer release's jobs wait for a newer worker).
    var knownKinds: [String] { Array(kinds.byName.keys) }
    var claimSize: Int { max(1, min(configuration.batchSize, configuration.concurrency)) }

    // MARK: - Running as a service

    public func run() async throws {
        let stopping = StopFlag()
        try await RuntimeRoleCheck.verify(database)
        try await RuntimeRoleCheck.verifyClaimsJobs(database)
        if configuration.firesSchedules {
            try await schedules.install(on: database)
        }
        logger.info(
            "job worker started",
            metadata: ["worker": "\(configuration.name)", "queues": "\(configuration.queues?.joined(separator: ",") ?? "all")"]
        )
        try await DatabaseDeadline.$limit.withValue(DatabaseDeadline.configured) {
            try await run(until: stopping)
        }
        logger.info("job worker stopped", metadata: ["worker": "\(configuration.name)"])
    }

    /// Listens, keeps house and claims until the graceful shutdown, each database wait within the deadline.
    private func run(until stopping: StopFlag) async throws {
        try await withGracefulShutdownHandler {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await listen(until: stopping) }
                // Housekeeping has a loop of its own: recovering leases and firing schedules never waits behind a job.
                group.addTask { await housekeep(until: stopping) }
                defer { group.cancelAll() }
                try await loop(until: stopping)
            }
        } onGracefulShutdown: {
            stopping.stop()
            wakeup.signal()
        }
    }

    private func loop(until stopping: StopFlag) async throws {
        // Standalone jobs that ran: completed with the next claim, or here when the worker stops.
        var done: [Int] = []
        while !stopping.isStopped && !Task.isCancelled {
            let ran: Int
            do {
                ran = try await runOneBatch(stopping: stopping, done: &done)
            } catch {
                logger.warning("claiming jobs failed; trying again", metadata: ["error": "\(String(reflecting: error))"])
                ran = 0
            }
            if ran == 0 && !stopping.isStopped {
                await wakeup.wait(upTo: configuration.pollInterval)
            }
        }
        try await completeStandalone(done)
        done = []
    }

    private func housekeep(until stopping: StopFlag) async {
        while !stopping.isStopped && !Task.isCancelled {
            await housekeeping()
            try? await Task.sleep(for: .seconds(5))
        }
    }

    /// Runs `work` (the worker's own statements) within the database deadline in a task of its own, so that a statement
    /// the driver never answers (see DatabaseDeadline) is left behind instead of stopping the worker.
    private func bounded<Result: Sendable>(_ what: String, _ work: @escaping @Sendable () async throws -> Result) async throws -> Result {
        try await DatabaseDeadline.race(waitingFor: what, work)
    }

    /// Recovers jobs of vanished workers and fires the schedules that are due.
    private func housekeeping() async {
        do {
            let recovered = try await bounded("recovering expired leases") {
                try await database.withTransaction { connection in
                    try await connection.query("SELECT job_recover_expired()", logger: logger).collect().first?.decode(Int.self) ?? 0
                }
            }
            if recovered > 0 { logger.notice("recovered jobs whose lease expired", metadata: ["jobs": "\(recovered)"]) }
            if configuration.firesSchedules {
                try await bounded("firing schedules") { try await schedules.fireDue(at: clock(), on: database) }
            }
        } catch {
            logger.warning("job housekeeping failed; trying again", metadata: ["error": "\(String(reflecting: error))"])
        }
    }

    /// Holds one connection listening for `NOTIFY kreiswerk_jobs`; reconnects if it drops.
    private func listen(until stopping: StopFlag) async {
        while !stopping.isStopped && !Task.isCancelled {
            do {
                try await database.client.withConnection { connection in
                    try await connection.listen(on: "kreiswerk_jobs") { notifications in
                        wakeup.signal()  // whatever was queued while not listening
                        for try await _ in notifications { wakeup.signal() }
                    }
                }
            } catch {
                if Task.isCancelled { return }
                logger.warning("listening for new jobs failed; polling until it is back", metadata: ["error": "\(String(reflecting: error))"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    // MARK: - Claiming and running

    /// Runs due jobs until none is left; returns how many ran. For sweeps and tests.
    @discardableResult
    public func runUntilIdle() async throws -> Int {
        var total = 0
        var done: [Int] = []
        let stopping = StopFlag()
        while true {
            let ran = try await runOneBatch(stopping: stopping, done: &done)
            if ran == 0 { return total }  // that claim completed the last batch's jobs
            total += ran
        }
    }

    /// Reports the standalone jobs in `done` as completed and claims the next batch, in one round trip;
    /// runs the batch and leaves its completed standalone jobs in `done`. Returns how many jobs were claimed.
    func runOneBatch(stopping: StopFlag, done: inout [Int]) async throws -> Int {
        let claimed = try await claim(completing: done)
        done = []
        guard !claimed.isEmpty else { return 0 }
        let finished = FinishedJobs()
        var unstarted: [Int] = []
        // The whole batch starts at once (it is at most `concurrency` jobs): its leases run from the claim.
        await withTaskGroup(of: Void.self) { group in
            for job in claimed {
                if stopping.isStopped {
                    unstarted.append(job.id)
                    continue
                }
                group.addTask { await run(job, finished: finished) }
            }
        }
        done = finished.take()
        if !unstarted.isEmpty {
            _ = try await bounded("giving back claimed jobs") { [unstarted] in
                try await database.withTransaction { connection in
                    try await connection.query("SELECT job_release(\(configuration.name), \(unstarted))", logger: logger).collect()
                }
            }
            logger.info("gave back claimed jobs on shutdown", metadata: ["jobs": "\(unstarted.count)"])
        }
        return claimed.count
    }

    /// One statement (no explicit transaction: `job_claim` is atomic by itself), one round trip.
    private func claim(completing done: [Int]) async throws -> [ClaimedJob] {
        let rows = try await bounded("claiming jobs") {
            try await database.client.query(
                """
                SELECT id, tenant_id, kind, payload::text, attempts, max_attempts, timeout_seconds, created_at
                FROM job_claim(\(configuration.name), \(configuration.queues)::text[], \(knownKinds)::text[], \(claimSize)::integer, \(done)::bigint[])
                """,
                logger: logger
            ).collect()
        }
        let decoder = JSONDecoder()
        var jobs: [ClaimedJob] = []
        for row in rows {
            let (id, tenant, kind, payload, attempt, maxAttempts, timeout, created) = try row.decode(
                (Int, UUID, String, String, Int, Int, Int, Date).self
            )
            jobs.append(
                ClaimedJob(
                    id: id,
                    tenantID: tenant,
                    kind: kind,
                    payload: payload == "{}" ? [:] : (try? decoder.decode(JobPayload.self, from: Data(payload.utf8))) ?? [:],
                    attempt: attempt,
                    maxAttempts: maxAttempts,
                    timeout: .seconds(timeout),
                    enqueuedAt: created
                )
            )
        }
        return jobs
    }

    /// Runs one job within its timeout and records the outcome.
    private func run(_ job: ClaimedJob, finished: FinishedJobs) async {
        let started = ContinuousClock.now
        let context = JobContext(job: job, database: database, logger: logger, now: job.payload["as_of"].flatMap(Self.instant) ?? clock())
        do {
            guard let kind = kinds[job.kind] else { throw UnknownJobKind(kind: job.kind) }
            // The job's own transaction may take its whole timeout (and a little more, for the statement_timeout to fire).
            try await withTimeout(job.timeout) {
                try await DatabaseDeadline.$limit.withValue(max(job.timeout + .seconds(5), DatabaseDeadline.configured)) {
                    try await runHandler(kind, job, context)
                }
            }
            if case .standalone = kind.run { finished.add(job.id) }
            metrics?.finished(kind: job.kind, outcome: "succeeded", duration: ContinuousClock.now - started)
        } catch {
            await fail(job, error: error, started: started)
        }
    }

    private func runHandler(_ kind: JobKind, _ job: ClaimedJob, _ context: JobContext) async throws {
        switch kind.run {
        case .inTenantTransaction(let handler):
            try await context.inTenant { connection in
                // A query cannot outlive the job: the database cancels it at the job's timeout.
                _ = try await connection.query(
                    "SELECT set_config('statement_timeout', \(String(Int(job.timeout.components.seconds) * 1000)), true)",
                    logger: logger
                ).collect()
                try await handler(connection, context)
                let completed = try await connection.query(
                    "SELECT job_complete(\(configuration.name), \([job.id]))",
                    logger: logger
                ).collect().count
                guard completed == 1 else { throw LeaseLost(job: job.id) }
            }
        case .standalone(let handler):
            try await handler(context)
        }
    }

    private func fail(_ job: ClaimedJob, error: any Error, started: ContinuousClock.Instant) async {
        let message = Self.describe(error)
        let delay = kinds[job.kind]?.delay(after: job.attempt) ?? .seconds(60)
        let retryAt = Date().addingTimeInterval(Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18)
        do {
            let state = try await bounded("recording a job failure") {
                try await database.withTransaction { connection in
                    try await connection.query(
                        "SELECT job_fail(\(configuration.name), \(job.id), \(message), \(retryAt))",
                        logger: logger
                    ).collect().first?.decode(String?.self)
                }
            }
            logger.warning(
                "job failed",
                metadata: [
                    "job": "\(job.id)", "kind": "\(job.kind)", "attempt": "\(job.attempt)/\(job.maxAttempts)",
                    "now": "\(state ?? "taken over")", "error": "\(message)",
                ]
            )
            metrics?.finished(kind: job.kind, outcome: state == "parked" ? "parked" : "failed", duration: ContinuousClock.now - started)
        } catch {
            // The lease runs out and another worker tries the job again.
            logger.error("recording a job failure failed", metadata: ["job": "\(job.id)", "error": "\(String(reflecting: error))"])
        }
    }

    private func completeStandalone(_ ids: [Int]) async throws {
        guard !ids.isEmpty else { return }
        _ = try await bounded("completing jobs") {
            try await database.client.query("SELECT job_complete(\(configuration.name), \(ids))", logger: logger).collect()
        }
    }

    /// What an operator reads as the job's last error. For a database error its message and
    /// SQLSTATE only: the detail may quote row values (personal data).
    static func describe(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            guard let message = error.serverInfo?[.message] else { return "database connection: \(error.code)" }
            return "database: \(message) (SQLSTATE \(error.serverInfo?[.sqlState] ?? "?"))"
        }
        return (error as? any CustomStringConvertible)?.description ?? String(reflecting: error)
    }

    static func instant(_ text: String) -> Date? {
        try? Date(text, strategy: .iso8601)
    }
}

/// Set once when the service is asked to stop.
final class StopFlag: Sendable {
    private let stopped = Mutex(false)
    func stop() { stopped.withLock { $0 = true } }
    var isStopped: Bool { stopped.withLock { $0 } }
}

/// Standalone jobs that ran through, completed together after the batch.
final class FinishedJobs: Sendable {
    private let ids = Mutex<[Int]>([])
    func add(_ id: Int) { ids.withLock { $0.append(id) } }
    func take() -> [Int] {
        ids.withLock { ids in
            defer { ids = [] }
            return ids
        }
    }
}

/// Another worker took the job after this one's lease ran out: the effect is rolled back.
struct LeaseLost: Error, CustomStringConvertible {
    var job: Int
    var description: String { "lost the lease of job \(job) to another worker; its effect was rolled back" }
}

struct JobTimedOut: Error, CustomStringConvertible {
    static let waitingFor = "the job"
    var timeout: Duration
    var description: String { "timed out after \(timeout.components.seconds) s" }
}

/// Runs `body`, cancelling it and throwing `JobTimedOut` when it takes longer than `timeout`. The worker goes on at the
/// timeout even if `body` does not end (a statement the driver never answers, see DatabaseDeadline): a task group would
/// wait for it, so `body` runs in a task of its own that is left behind then.
func withTimeout(_ timeout: Duration, _ body: @escaping @Sendable () async throws -> Void) async throws {
    do {
        try await DatabaseDeadline.race(timeout, waitingFor: JobTimedOut.waitingFor, body)
    } catch let error as DatabaseDeadlineExceeded where error.waitingFor == JobTimedOut.waitingFor {
        throw JobTimedOut(timeout: timeout)
    }
}
