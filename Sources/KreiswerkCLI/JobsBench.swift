import ArgumentParser
import Foundation
import Kreiswerk
import Logging
import PostgresNIO

extension JobsCommand {
    /// Measurements for ops/bench/jobs: throughput of no-op jobs with W worker processes, and the
    /// latency from the commit of an enqueue to the start of the job on an idle queue.
    struct Bench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Benchmark the queue (used by ops/bench/jobs; the database should have no other work queued).",
            shouldDisplay: false,
            subcommands: [Drain.self, Latency.self]
        )

        struct Drain: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Queue N no-op jobs, start W worker processes, time until all ran.")
            @Option var jobs = 100_000
            @Option var workers = 1
            @OptionGroup var common: CommonOptions

            func run() async throws {
                let enqueueStart = ContinuousClock.now
                let (first, last) = try await asPlatform(common) { connection, logger in
                    try await connection.query(
                        """
                        WITH queued AS (
                            INSERT INTO jobs (tenant_id, kind) SELECT \(JobQueue.platformTenant), 'noop' FROM generate_series(1, \(jobs)) RETURNING id)
                        SELECT min(id), max(id) FROM queued
                        """,
                        logger: logger
                    ).collect().first!.decode((Int, Int).self)
                }
                let enqueueSeconds = seconds(enqueueStart.duration(to: .now))
                // Untimed, as autovacuum would have done in a running system (and as the pgqueuer side does); as the
                // owner, since only the owner may analyze a table.
                try await withOwnerDatabase(logger: common.logger(default: .warning)) { database in
                    try await database.withTransaction { try await $0.query("ANALYZE jobs", logger: database.logger) }
                }
                let started = ContinuousClock.now
                let processes = try (0..<workers).map { _ in try spawnWorker() }
                defer { for process in processes where process.isRunning { process.terminate() } }
                try await waitUntilDone(from: first, to: last, count: jobs, timeout: .seconds(900))
                let drainSeconds = seconds(started.duration(to: .now))
                let succeeded = try await asPlatform(common) { connection, logger in
                    try await connection.query(
                        "SELECT count(*)::integer FROM jobs WHERE id >= \(first) AND kind = 'noop' AND state = 'succeeded'",
                        logger: logger
                    ).collect().first!.decode(Int.self)
                }
                guard succeeded == jobs else { throw ConfigurationError("only \(succeeded) of \(jobs) jobs succeeded") }
                print(
                    String(
                        format: "kreiswerk: %d no-op jobs, %d worker%@: enqueue %.2f s, drain %.2f s, %.0f jobs/s",
                        jobs,
                        workers,
                        workers == 1 ? "" : "s",
                        enqueueSeconds,
                        drainSeconds,
                        Double(jobs) / drainSeconds
                    )
                )
                print(
                    String(
                        format: "RESULT kreiswerk throughput workers=%d jobs=%d enqueue_s=%.3f drain_s=%.3f jobs_per_s=%.0f",
                        workers,
                        jobs,
                        enqueueSeconds,
                        drainSeconds,
                        Double(jobs) / drainSeconds
                    )
                )
                for process in processes {
                    process.terminate()
                    process.waitUntilExit()
                }
            }

            /// Polls every 10 ms whether the newest job has finished (a primary-key lookup, so the poll takes
            /// next to nothing from the workers; jobs are claimed oldest first), then checks that none is left.
            func waitUntilDone(from first: Int, to last: Int, count: Int, timeout: Duration) async throws {
                let deadline = ContinuousClock.now + timeout
                let logger = common.logger(default: .warning)
                try await withAppDatabase(logger: logger) { database in
                    while ContinuousClock.now < deadline {
                        let finished = try await database.withTenant(JobQueue.platformTenant) { connection in
                            try await connection.query("SELECT state = 'succeeded' FROM jobs WHERE id = \(last)", logger: logger)
                                .collect().first?.decode(Bool.self) ?? false
                        }
                        if finished {
                            let open = try await database.withTenant(JobQueue.platformTenant) { connection in
                                try await connection.query(
                                    """
                                    SELECT EXISTS (SELECT 1 FROM jobs WHERE state = 'queued' AND id BETWEEN \(first) AND \(last))
                                        OR EXISTS (SELECT 1 FROM jobs WHERE state = 'running' AND id BETWEEN \(first) AND \(last))
                                    """,
                                    logger: logger
                                ).collect().first!.decode(Bool.self)
                            }
                            if !open { return }
                        }
                        try await Task.sleep(for: .milliseconds(10))
                    }
                    throw ConfigurationError("the workers did not finish \(count) jobs within \(timeout)")
                }
            }
        }

        struct Latency: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "With one idle worker process: enqueue jobs one at a time and measure commit-to-start latency."
            )
            @Option var samples = 500
            @OptionGroup var common: CommonOptions

            func run() async throws {
                let logger = common.logger(default: .warning)
                let worker = try spawnWorker()
                defer { if worker.isRunning { worker.terminate() } }
                try await Task.sleep(for: .seconds(2))  // the worker is up and listening
                var committed: [Int: Date] = [:]
                try await withAppDatabase(logger: logger) { database in
                    for _ in 0..<samples {
                        let id = try await database.withTenant(JobQueue.platformTenant) { connection in
                            try await connection.query(
                                "INSERT INTO jobs (tenant_id, kind) VALUES (\(JobQueue.platformTenant), 'noop') RETURNING id",
                                logger: logger
                            ).collect().first!.decode(Int.self)
                        }
                        committed[id] = Date()
                        try await Task.sleep(for: .milliseconds(Int.random(in: 5...20)))
                    }
                    try await Task.sleep(for: .seconds(1))
                    var latencies: [Double] = []
                    try await database.withTenant(JobQueue.platformTenant) { connection in
                        for try await (id, started) in try await connection.query(
                            "SELECT id, started_at FROM jobs WHERE id = ANY(\(Array(committed.keys))) AND started_at IS NOT NULL",
                            logger: logger
                        ).decode((Int, Date).self) {
                            latencies.append(max(0, started.timeIntervalSince(committed[id]!)) * 1000)
                        }
                    }
                    guard latencies.count == samples else { throw ConfigurationError("only \(latencies.count) of \(samples) jobs started") }
                    latencies.sort()
                    func percentile(_ p: Double) -> Double {
                        latencies[min(latencies.count - 1, Int((p / 100 * Double(latencies.count)).rounded(.up)) - 1)]
                    }
                    print(
                        String(
                            format: "kreiswerk: enqueue-to-start over %d jobs: p50 %.2f ms, p95 %.2f ms, p99 %.2f ms, max %.2f ms",
                            samples,
                            percentile(50),
                            percentile(95),
                            percentile(99),
                            latencies.last!
                        )
                    )
                    print(
                        String(
                            format: "RESULT kreiswerk latency samples=%d p50_ms=%.2f p95_ms=%.2f p99_ms=%.2f max_ms=%.2f",
                            samples,
                            percentile(50),
                            percentile(95),
                            percentile(99),
                            latencies.last!
                        )
                    )
                }
                worker.terminate()
                worker.waitUntilExit()
            }
        }
    }
}

/// Starts `kreiswerk worker` (this executable) as a child process with the same environment.
private func spawnWorker() throws -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
    if !FileManager.default.isExecutableFile(atPath: process.executableURL!.path), let path = Bundle.main.executablePath {
        process.executableURL = URL(fileURLWithPath: path)
    }
    // Batches of 100 started at once (the pgqueuer side claims batches of 100 with unlimited concurrency).
    process.arguments = ["worker", "--no-schedules", "--concurrency", "100", "--max-connections", "4", "--log-level", "warning"]
    try process.run()
    return process
}

private func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}
