import Foundation
import Logging
import PostgresNIO
import Synchronization
import Testing

@testable import Kreiswerk

/// Every wait on the database ends within the deadline, whatever PostgresNIO does when a connection closes under it:
/// a backend ended with pg_terminate_backend, a statement that runs too long, a pool that cannot connect, a job whose
/// statement is never answered. Each test is bounded itself, so that the old code fails instead of hanging the suite.
@Suite struct DatabaseDeadlineTests {
    static let logger = TestDatabase.logger

    /// Fails the test (instead of hanging the suite) if `body` is not done within `seconds`.
    static func within<Result: Sendable>(
        _ seconds: Int,
        _ what: Comment,
        _ body: @escaping @Sendable () async throws -> Result
    ) async throws -> Result {
        do {
            return try await DatabaseDeadline.race(.seconds(seconds), waitingFor: "the test", body)
        } catch let error as DatabaseDeadlineExceeded where error.waitingFor == "the test" {
            Issue.record("still waiting after \(seconds) s: \(what)")
            throw error
        }
    }

    static func terminate(_ pid: Int32) async throws {
        try await withPostgresClient(try TestDatabase.superuserURL, logger: logger) { client in
            _ = try await client.query("SELECT pg_terminate_backend(\(pid))", logger: logger).collect()
        }
    }

    static func untilClosed(_ connection: PostgresConnection) async throws {
        for _ in 0..<200 where !connection.isClosed { try await Task.sleep(for: .milliseconds(10)) }
        // The channel's handlers go a moment after it closes: a statement written then is never answered.
        try await Task.sleep(for: .milliseconds(100))
    }

    @Test func aTransactionWhoseBackendIsTerminatedFailsWithAnErrorThatMeansTryAgain() async throws {
        try await TestDatabase.with { db in
            let app = db.app
            let started = ContinuousClock.now
            let error = await #expect(throws: (any Error).self) {
                // In a race, as every request (DeadlineResponder) and every job runs: the statement after the termination
                // is never answered by PostgresNIO, and the race goes on without it about a second after the close.
                try await Self.within(10, "a transaction whose backend was terminated") {
                    try await DatabaseDeadline.$limit.withValue(.seconds(3)) {
                        try await app.withTransaction { connection in
                            let pid = try await connection.query("SELECT pg_backend_pid()", logger: Self.logger).collect().first!.decode(Int32.self)
                            try await Self.terminate(pid)
                            do {
                                _ = try await connection.query("SELECT 1", logger: Self.logger).collect()
                            } catch {
                                // The old code sent ROLLBACK to the closed connection here and waited for ever.
                                try await Self.untilClosed(connection)
                                throw error
                            }
                        }
                    }
                }
            }
            #expect(ContinuousClock.now - started < .seconds(9), "bounded: the deadline is 3 s, the race goes on about a second after the close")
            let unavailable = try #require(error.map { ProblemMiddleware<AppRequestContext>.databaseUnavailable($0) })
            #expect(unavailable, "a lost connection is a 503 with Retry-After, not a 500: \(String(reflecting: error))")
            // The pool replaced the connection: the next transaction works.
            let one = try await app.withTransaction { try await $0.query("SELECT 1", logger: Self.logger).collect().first!.decode(Int.self) }
            #expect(one == 1)
        }
    }

    @Test func aStatementThatOutrunsTheDeadlineIsEndedAndItsConnectionClosed() async throws {
        try await TestDatabase.with { db in
            let app = db.app
            let started = ContinuousClock.now
            let error = await #expect(throws: DatabaseDeadlineExceeded.self) {
                try await Self.within(10, "pg_sleep(30) under a 1 s deadline") {
                    try await DatabaseDeadline.$limit.withValue(.seconds(1)) {
                        try await app.withTransaction { connection in
                            _ = try await connection.query("SELECT pg_sleep(30)", logger: Self.logger).collect()
                        }
                    }
                }
            }
            #expect(ContinuousClock.now - started < .seconds(4))
            #expect(error.map { ProblemMiddleware<AppRequestContext>.databaseUnavailable($0) } == true)
        }
    }

    @Test func waitingForAConnectionWhileTheDatabaseIsDownEndsAtTheDeadline() async throws {
        // Nothing listens on port 9 of this machine: the pool would retry for 60 s before its circuit breaker trips.
        let nowhere = try DatabaseURL("postgres://kreiswerk_app@127.0.0.1:9/kreiswerk")
        let started = ContinuousClock.now
        try await withPostgresClient(nowhere, logger: Self.logger) { client in
            let database = Database(client: client, logger: Self.logger)
            let error = await #expect(throws: (any Error).self) {
                try await Self.within(10, "a lease from a pool that cannot connect") {
                    try await DatabaseDeadline.$limit.withValue(.seconds(1)) {
                        try await database.withTransaction { _ in }
                    }
                }
            }
            #expect(error.map { ProblemMiddleware<AppRequestContext>.databaseUnavailable($0) } == true, "\(String(reflecting: error))")
        }
        #expect(ContinuousClock.now - started < .seconds(4))
    }

    @Test func raceLeavesBehindWorkThatNeverEnds() async throws {
        let started = ContinuousClock.now
        await #expect(throws: DatabaseDeadlineExceeded.self) {
            // Like a statement whose promise PostgresNIO lost: never resumed, deaf to cancellation.
            try await DatabaseDeadline.race(.milliseconds(300), waitingFor: "nothing") {
                await withUnsafeContinuation { (_: UnsafeContinuation<Void, Never>) in }
            }
        }
        #expect(ContinuousClock.now - started < .seconds(2))
    }

    @Test func aJobThatNeverEndsIsFailedByItsTimeoutAndTheWorkerGoesOn() async throws {
        try await TestDatabase.with { db in
            _ = try await db.applyENKreis()
            let stuck = JobKind(
                "test.stuck",
                timeout: .seconds(1),
                run: .inTenantTransaction { connection, _ in
                    _ = try await connection.query("SELECT 1", logger: Self.logger).collect()
                    // Like the job's next statement on a dead connection: never answered, deaf to cancellation.
                    await withUnsafeContinuation { (_: UnsafeContinuation<Void, Never>) in }
                }
            )
            let ran = JobQueueTests.Runs()
            let fine = JobKind("test.fine", run: .standalone { ran.add($0.job.id) })
            let worker = JobQueueTests.worker(db, [stuck, fine])
            let stuckID = try #require(try await JobQueueTests.enqueue(db, stuck).first)
            let started = ContinuousClock.now
            #expect(try await Self.within(15, "a worker with a job that never ends") { try await worker.runUntilIdle() } >= 1)
            #expect(ContinuousClock.now - started < .seconds(8))
            let (state, error) = try await db.owner.withTransaction {
                try await $0.query("SELECT state, last_error FROM jobs WHERE id = \(stuckID)", logger: Self.logger)
                    .collect().first!.decode((String, String?).self)
            }
            #expect(state == "queued", "failed by its timeout and queued again")
            #expect(error?.contains("timed out") == true, "\(error ?? "no error")")
            // The worker claims on.
            let fineID = try #require(try await JobQueueTests.enqueue(db, fine).first)
            _ = try await Self.within(10, "the next job") { try await worker.runUntilIdle() }
            #expect(ran.all == [fineID])
        }
    }
}
