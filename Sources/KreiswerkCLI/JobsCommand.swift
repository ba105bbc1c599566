import ArgumentParser
import Foundation
import Kreiswerk
import Logging
import PostgresNIO

struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs",
        abstract: "The job queue: look at it, retry or cancel jobs, sweep the rules as of an instant.",
        subcommands: [List.self, Stats.self, Retry.self, Cancel.self, Sweep.self, Enqueue.self, Bench.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The newest jobs, optionally of one state (queued, running, succeeded, parked, cancelled)."
        )
        @Option var state: String?
        @Option var kind: String?
        @Option var limit = 50
        @Flag(help: "JSON instead of a table.") var json = false
        @OptionGroup var common: CommonOptions

        func run() async throws {
            if let state, !JobQueue.states.contains(state) {
                throw ValidationError("'\(state)' is not a job state: use one of \(JobQueue.states.joined(separator: ", "))")
            }
            let jobs = try await asPlatform(common) { try await JobQueue.list(state: state, kind: kind, limit: limit, on: $0, logger: $1) }
            if json { return try printJSON(jobs) }
            print("id\tstate\tattempts\ttenant\tkind\trun_at\tlast_error")
            for job in jobs {
                print(
                    "\(job.id)\t\(job.state)\t\(job.attempts)/\(job.maxAttempts)\t\(job.tenant)\t\(job.kind)\t\(job.runAt.formatted(.iso8601))\t\(job.lastError ?? "")"
                )
            }
        }
    }

    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Jobs per queue and state, and the lag of the oldest due job.")
        @Flag(help: "JSON instead of a table.") var json = false
        @OptionGroup var common: CommonOptions

        func run() async throws {
            let stats = try await asPlatform(common) { try await JobQueue.stats(on: $0, logger: $1) }
            if json { return try printJSON(stats.rows) }
            print("queue\tstate\tjobs\tlag_seconds")
            for row in stats.rows { print("\(row.queue)\t\(row.state)\t\(row.jobs)\t\(String(format: "%.1f", row.lagSeconds))") }
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run a parked, cancelled or waiting job again now, with fresh attempts.")
        @Argument var id: Int
        @OptionGroup var common: CommonOptions

        func run() async throws {
            guard try await asPlatform(common, { try await JobQueue.retry(id, on: $0, logger: $1) }) else {
                throw ConfigurationError("job \(id) does not exist, is running or has finished: only queued, parked or cancelled jobs can be retried")
            }
            print("job \(id) queued again")
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Cancel a waiting or parked job.")
        @Argument var id: Int
        @OptionGroup var common: CommonOptions

        func run() async throws {
            guard try await asPlatform(common, { try await JobQueue.cancel(id, on: $0, logger: $1) }) else {
                throw ConfigurationError("job \(id) does not exist, is running or has finished: only queued or parked jobs can be cancelled")
            }
            print("job \(id) cancelled")
        }
    }

    struct Sweep: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Run every recurring schedule's job as if it were --as-of (default: now), then every due job; schedules' own bookkeeping is left alone.",
            discussion:
                "Example: kreiswerk jobs sweep --as-of 2027-03-01T08:00:00+01:00. The rules never notify twice for the same occasion, so sweeping again is harmless."
        )
        @Option(help: "The instant, ISO 8601 with offset, e.g. 2027-03-01T08:00:00+01:00.") var asOf: String?
        @OptionGroup var common: CommonOptions

        func run() async throws {
            var instant = Date()
            if let asOf {
                guard let parsed = try? Date(asOf, strategy: .iso8601) else {
                    throw ValidationError("--as-of '\(asOf)' is not an ISO 8601 instant such as 2027-03-01T08:00:00+01:00")
                }
                instant = parsed
            }
            let logger = common.logger(default: .warning)
            let asOfInstant = instant
            let ran = try await withWorkerDatabase(logger: logger) { database in
                let kinds = Jobs.kinds(mailer: Mailer(configuration: .fromEnvironment(publicURL: publicURL())))
                let schedules = Jobs.schedules(kinds)
                let worker = JobWorker(
                    configuration: .init(firesSchedules: false),
                    kinds: kinds,
                    database: database,
                    schedules: schedules,
                    clock: { asOfInstant }
                )
                return try await schedules.sweep(asOf: asOfInstant, with: worker)
            }
            print("swept as of \(instant.formatted(.iso8601)): \(ran) job\(ran == 1 ? "" : "s") ran")
        }
    }

    struct Enqueue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Queue platform jobs by hand: noop (to check that workers run), diagnostics.sleep, reminders.sweep, mail.digest, jobs.purge."
        )
        @Argument var kind: String
        @Option(help: "How many (noop only).") var count = 1
        @Option(help: "diagnostics.sleep: how long it holds its transaction (0 to 60; its lease ends 15 s later).") var seconds = 5
        @OptionGroup var common: CommonOptions

        func run() async throws {
            let allowed = ["noop", "diagnostics.sleep", "reminders.sweep", "mail.digest", "jobs.purge"]
            guard allowed.contains(kind) else {
                throw ValidationError("'\(kind)' cannot be queued by hand: use one of \(allowed.joined(separator: ", "))")
            }
            guard count >= 1, kind == "noop" || count == 1 else { throw ValidationError("--count must be 1 or more, and more than 1 only for noop") }
            let jobKind = Jobs.kinds(mailer: Mailer(configuration: .fromEnvironment(publicURL: publicURL())))[kind]!
            guard (0...60).contains(seconds) else { throw ValidationError("--seconds must be from 0 to 60") }
            // A sleeping job may take its seconds and five more; its lease ends ten seconds after that.
            let timeout = kind == "diagnostics.sleep" ? seconds + 5 : Int(jobKind.timeout.components.seconds)
            let started = ContinuousClock.now
            try await asPlatform(common) { connection, logger in
                try await connection.query(
                    """
                    INSERT INTO jobs (tenant_id, queue, kind, payload, priority, max_attempts, timeout_seconds)
                    SELECT \(JobQueue.platformTenant), \(jobKind.queue), \(jobKind.name), jsonb_build_object('seconds', \(String(seconds))::text),
                           \(jobKind.priority), \(jobKind.maxAttempts), \(timeout) FROM generate_series(1, \(count))
                    """,
                    logger: logger
                )
            }
            print("queued \(count) \(kind) job\(count == 1 ? "" : "s") in \(started.duration(to: .now))")
        }
    }
}

/// Runs `body` acting as the platform tenant, the only one that may look across the queue.
func asPlatform<Result: Sendable>(
    _ common: CommonOptions,
    isolation: isolated (any Actor)? = #isolation,
    _ body: (PostgresConnection, Logger) async throws -> Result
) async throws -> Result {
    let logger = common.logger(default: .warning)
    return try await withAppDatabase(logger: logger) { database in
        try await database.withTenant(JobQueue.platformTenant) { try await body($0, logger) }
    }
}

func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.dateEncodingStrategy = .iso8601
    encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
    encoder.keyEncodingStrategy = .convertToSnakeCase
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}
