import ArgumentParser
import Foundation
import Kreiswerk
import Logging
import PostgresNIO
import ServiceLifecycle

struct Worker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run jobs and seal the audit trail until SIGTERM or SIGINT (then finish the jobs started and give back the rest). "
            + "Any number may run at once. As the worker role (KREISWERK_WORKER_DATABASE_URL)."
    )

    @Option(help: "Queues to serve, comma-separated (default: all).") var queues: String?
    @Option(help: "Jobs run at once (and claimed per round trip, at most --batch).") var concurrency = 16
    @Option(help: "Jobs claimed per round trip, at most.") var batch = 100
    @Option(help: "Seconds between looks at the queue when no notification arrives.") var poll = 2.0
    @Flag(help: "Leave the recurring schedules to other workers.") var noSchedules = false
    @Option(help: "Most database connections (default: concurrency + 2, for listening and claiming).") var maxConnections: Int?
    @Option(help: "Seconds SIGTERM waits for started jobs before the process exits anyway (env KREISWERK_STOP_SECONDS, default 10).")
    var stopTimeout: Double?
    @OptionGroup var common: CommonOptions

    func run() async throws {
        let logger = common.logger(default: .info)
        var clientConfiguration = try databaseURL(from: "KREISWERK_WORKER_DATABASE_URL").clientConfiguration
        clientConfiguration.options.maximumConnections = maxConnections ?? concurrency + 2
        let client = PostgresClient(configuration: clientConfiguration, backgroundLogger: logger)
        let database = Database(client: client, logger: logger)
        let kinds = Jobs.kinds(mailer: Mailer(configuration: .fromEnvironment(publicURL: publicURL())))
        let worker = JobWorker(
            configuration: .init(
                queues: queues?.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) },
                batchSize: batch,
                concurrency: concurrency,
                pollInterval: .milliseconds(Int(poll * 1000)),
                firesSchedules: !noSchedules
            ),
            kinds: kinds,
            database: database,
            schedules: Jobs.schedules(kinds)
        )
        let cap = stopCap(stopTimeout)
        var configuration = ServiceGroupConfiguration(
            services: [
                .init(service: client), .init(service: AuditSealer(chain: AuditChain(database: database))),
                // Stopping in reverse order, the worker first, never leaves a query on a closing pool.
                .init(
                    service: worker,
                    successTerminationBehavior: .gracefullyShutdownGroup,
                    failureTerminationBehavior: .gracefullyShutdownGroup
                ),
                // Last: it hears of the stop first and caps it.
                .init(service: StopCap(cap: cap, logger: logger)),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        StopCap.configure(&configuration, cap: cap)
        try await ServiceGroup(configuration: configuration).run()
    }
}

/// Where links in e-mails point (env KREISWERK_PUBLIC_URL, else the default address of serve).
func publicURL() -> String {
    ProcessInfo.processInfo.environment["KREISWERK_PUBLIC_URL"] ?? "http://127.0.0.1:8080"
}

/// Runs `body` against KREISWERK_APP_DATABASE_URL, as the request role: what it does acts as a tenant.
func withAppDatabase<Result: Sendable>(
    logger: Logger,
    isolation: isolated (any Actor)? = #isolation,
    _ body: (Database) async throws -> Result
) async throws -> Result {
    try await withDatabase("KREISWERK_APP_DATABASE_URL", logger: logger, body)
}

/// Runs `body` against KREISWERK_WORKER_DATABASE_URL, as the job worker's role: it claims jobs, which then act as their tenants.
func withWorkerDatabase<Result: Sendable>(
    logger: Logger,
    isolation: isolated (any Actor)? = #isolation,
    _ body: (Database) async throws -> Result
) async throws -> Result {
    try await withDatabase("KREISWERK_WORKER_DATABASE_URL", logger: logger, body)
}

private func withDatabase<Result: Sendable>(
    _ variable: String,
    logger: Logger,
    isolation: isolated (any Actor)? = #isolation,
    _ body: (Database) async throws -> Result
) async throws -> Result {
    try await withPostgresClient(try databaseURL(from: variable), logger: logger) { client in
        try await body(Database(client: client, logger: logger))
    }
}
