import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import PostgresNIO
import Synchronization
import Testing

@testable import Kreiswerk

/// The queue against the real database: transactional enqueue, claims that never run a job twice,
/// retries and parking, unique keys, leases of vanished workers, and the tenant context of a job.
@Suite struct JobQueueTests {
    static let logger = TestDatabase.logger

    /// Records which job ids ran, and how often.
    final class Runs: Sendable {
        let ids = Mutex<[Int]>([])
        func add(_ id: Int) { ids.withLock { $0.append(id) } }
        var all: [Int] { ids.withLock { $0 } }
    }

    static func worker(_ db: TestDatabase, _ kinds: [JobKind], name: String = "test-\(UUID().uuidString.prefix(6))", batch: Int = 16) -> JobWorker {
        JobWorker(
            configuration: .init(name: name, batchSize: batch, concurrency: 4, pollInterval: .milliseconds(50), firesSchedules: false),
            kinds: JobKinds(kinds),
            database: db.worker,
            schedules: JobSchedules([])
        )
    }

    static func enqueue(
        _ db: TestDatabase,
        _ kind: JobKind,
        count: Int = 1,
        tenant: UUID = JobQueue.platformTenant,
        uniqueKey: String? = nil
    ) async throws -> [Int] {
        try await db.app.withTenant(tenant) { connection in
            var ids: [Int] = []
            for _ in 0..<count {
                if let id = try await JobQueue.enqueue(kind, tenant: tenant, uniqueKey: uniqueKey, on: connection, logger: logger) { ids.append(id) }
            }
            return ids
        }
    }

    static func states(_ db: TestDatabase) async throws -> [String: Int] {
        try await db.owner.withTransaction { connection in
            var counts: [String: Int] = [:]
            for try await (state, count) in try await connection.query("SELECT state, count(*)::integer FROM jobs GROUP BY state", logger: logger)
                .decode((String, Int).self)
            { counts[state] = count }
            return counts
        }
    }

    @Test func aJobEnqueuedInARolledBackTransactionIsGoneAndACommittedOneRuns() async throws {
        try await TestDatabase.with { db in
            _ = try await db.applyENKreis()
            struct Refused: Error {}
            await #expect(throws: Refused.self) {
                try await db.app.withTenant(JobQueue.platformTenant) { connection in
                    try await JobQueue.enqueue(Jobs.noop, tenant: JobQueue.platformTenant, on: connection, logger: Self.logger)
                    throw Refused()
                }
            }
            #expect(try await Self.states(db).isEmpty)
            let runs = Runs()
            let kind = JobKind("test.record", run: .standalone { runs.add($0.job.id) })
            let ids = try await Self.enqueue(db, kind)
            #expect(try await Self.worker(db, [kind]).runUntilIdle() == 1)
            #expect(runs.all == ids)
            #expect(try await Self.states(db) == ["succeeded": 1])
        }
    }

    @Test func fourWorkersNeverRunOneJobTwice() async throws {
        try await TestDatabase.with { db in
            _ = try await db.applyENKreis()
            let runs = Runs()
            let standalone = JobKind("test.standalone", run: .standalone { runs.add($0.job.id) })
            // Transactional jobs write their effect in the tenant's transaction: an audit entry each.
            let transactional = JobKind(
                "test.transactional",
                run: .inTenantTransaction { connection, context in
                    runs.add(context.job.id)
                    try await AuditLog.record(
                        AuditEvent("test.job_ran", tenant: context.job.tenantID, actor: nil, objectID: "\(context.job.id)"),
                        on: connection,
                        logger: context.logger
                    )
                }
            )
            let ids = try await Self.enqueue(db, standalone, count: 600) + Self.enqueue(db, transactional, count: 600)
            let workers = (0..<4).map { Self.worker(db, [standalone, transactional], name: "w\($0)", batch: 7) }
            try await withThrowingTaskGroup(of: Int.self) { group in
                for worker in workers { group.addTask { try await worker.runUntilIdle() } }
                var total = 0
                for try await ran in group { total += ran }
                #expect(total == 1200)
            }
            #expect(runs.all.count == 1200)
            #expect(Set(runs.all) == Set(ids))
            #expect(try await Self.states(db) == ["succeeded": 1200])
            let effects = try await db.owner.withTransaction {
                try await $0.query(
                    "SELECT count(*)::integer, count(DISTINCT object_id)::integer FROM audit_log WHERE action = 'test.job_ran'",
                    logger: Self.logger
                )
                .collect().first!.decode((Int, Int).self)
            }
            #expect(effects == (600, 600))
        }
    }

    @Test func aFailingJobIsRetriedWithBackOffThenParkedWithItsError() async throws {
        try await TestDatabase.with { db in
            _ = try await db.applyENKreis()
            struct MailServerDown: Error, CustomStringConvertible { var description: String { "mail server down" } }
            let attempts = Runs()
            let kind = JobKind(
                "test.failing",
                maxAttempts: 3,
                backoff: .seconds(4),
                maximumBackoff: .seconds(60),
                run: .standalone {
                    attempts.add($0.job.attempt)
                    throw MailServerDown()
                }
            )
            let worker = Self.worker(db, [kind])
            let id = try #require(try await Self.enqueue(db, kind).first)
            #expect(try await worker.runUntilIdle() == 1)
            // Queued again, not before the back-off (2 to 4 s for the first retry).
            let (state, delay) = try await db.owner.withTransaction {
                try await $0.query("SELECT state, extract(epoch FROM run_at - now())::float8 FROM jobs WHERE id = \(id)", logger: Self.logger)
                    .collect().first!.decode((String, Double).self)
            }
            #expect(state == "queued")
            #expect(delay > 1 && delay <= 4, "first retry after \(delay) s")
            #expect(try await worker.runUntilIdle() == 0, "not yet due")
            // Time passes: the retries come due (rather than waiting in the test).
            for _ in 0..<2 {
                try await db.owner.withTransaction {
                    try await $0.query("UPDATE jobs SET run_at = now() WHERE id = \(id) AND state = 'queued'", logger: Self.logger)
                }
                #expect(try await worker.runUntilIdle() == 1)
            }
            #expect(attempts.all == [1, 2, 3])
            let parked = try await db.app.withTenant(JobQueue.platformTenant) {
                try await JobQueue.list(state: "parked", kind: nil, limit: 10, on: $0, logger: Self.logger)
            }
            #expect(parked.map(\.id) == [id])
            #expect(parked.first?.lastError == "mail server down")
            #expect(parked.first?.attempts == 3)
            // An operator retries it: fresh attempts, runs again.
            #expect(try await db.app.withTenant(JobQueue.platformTenant) { try await JobQueue.retry(id, on: $0, logger: Self.logger) })
            #expect(try await worker.runUntilIdle() == 1)
            #expect(attempts.all == [1, 2, 3, 1])
        }
    }

    @Test func theBackOffGrowsExponentiallyWithJitterUpToItsMaximum() {
        let kind = JobKind("test.delay", backoff: .seconds(10), maximumBackoff: .seconds(300), run: .standalone { _ in })
        #expect(kind.delay(after: 1, random: 0) == .seconds(5))
        #expect(kind.delay(after: 1, random: 1) == .seconds(10))
        #expect(kind.delay(after: 3, random: 1) == .seconds(40))
        #expect(kind.delay(after: 10, random: 1) == .seconds(300))
        #expect(kind.delay(after: 10, random: 0) == .seconds(150))
    }

    @Test func aWorkerClaimsOnlyKindsItKnows() async throws {
        try await TestDatabase.with { db in
            _ = try await db.applyENKreis()
            let newer = JobKind("test.from_a_newer_release", run: .standalone { _ in })
            _ = try await Self.enqueue(db, newer)
            _ = try await Self.enqueue(db, Jobs.noop)
            #expect(try await Self.worker(db, [Jobs.noop]).runUntilIdle() == 1)
            #expect(try await Self.states(db) == ["succeeded": 1, "queued": 1], "the unknown kind waits, untouched, for a worker that knows it")
            #expect(try await Self.worker(db, [newer]).runUntilIdle() == 1)
        }
    }

    @Test func aUniqueKeyQueuesAJobOnce() async throws {
        try await TestDatabase.with { db in
            _ = try await db.applyENKreis()
            let first = try await Self.enqueue(db, Jobs.noop, uniqueKey: "goal-review:42")
            let second = try await Self.enqueue(db, Jobs.noop, uniqueKey: "goal-review:42")
            let other = try await Self.enqueue(db, Jobs.noop, uniqueKey: "goal-review:43")
            #expect(first.count == 1 && second.isEmpty && other.count == 1)
            #expect(try await Self.states(db) == ["queued": 2])
        }
    }

    /// A claim that committed while its answer was lost (a failover): the worker never got the jobs. Before 0040 they
    /// waited for their lease (timeout + 10 s); now the worker's next claim queues them again and runs them.
    @Test func jobsOfAClaimWhoseAnswerWasLostRunAtTheWorkersNextClaim() async throws {
        try await TestDatabase.with { db in
            _ = try await db.applyENKreis()
            let runs = Runs()
            let kind = JobKind("test.record", run: .standalone { runs.add($0.job.id) })
            let ids = try await Self.enqueue(db, kind, count: 3)
            let worker = Self.worker(db, [kind], name: "lost-answer")
            // The worker's claim, whose answer never reached it.
            let claimed = try await db.worker.withTransaction {
                try await $0.query("SELECT id FROM job_claim('lost-answer', NULL, ARRAY['test.record'], 2)", logger: Self.logger).collect().count
            }
            #expect(claimed == 2)
            // Another worker's running job is not the lost worker's to take back.
            let other = try await db.worker.withTransaction {
                try await $0.query("SELECT id FROM job_claim('busy-worker', NULL, ARRAY['test.record'], 1)", logger: Self.logger).collect()
                    .first!.decode(Int.self)
            }
            #expect(try await worker.runUntilIdle() == 2, "the two jobs of the lost claim, at once")
            #expect(Set(runs.all) == Set(ids).subtracting([other]))
            let states = try await db.owner.withTransaction {
                try await $0.query("SELECT id, state, attempts FROM jobs ORDER BY id", logger: Self.logger).collect().map {
                    try $0.decode((Int, String, Int).self)
                }
            }
            #expect(states.filter { $0.1 == "succeeded" }.map(\.0).sorted() == Set(ids).subtracting([other]).sorted())
            #expect(states.first { $0.0 == other }?.1 == "running", "still the busy worker's")
            #expect(states.filter { $0.1 == "succeeded" }.allSatisfy { $0.2 == 2 }, "the lost attempt is counted")
        }
    }

    @Test func aJobOfAVanishedWorkerRunsOnceAfterItsLeaseExpired() async throws {
        try await TestDatabase.with { db in
            _ = try await db.applyENKreis()
            let runs = Runs()
            let kind = JobKind("test.record", run: .standalone { runs.add($0.job.id) })
            let id = try #require(try await Self.enqueue(db, kind).first)
            // A worker claims it and dies (it never reports back).
            let claimed = try await db.worker.withTransaction {
                try await $0.query("SELECT id FROM job_claim('dead-worker', NULL, ARRAY['test.record'], 10)", logger: Self.logger).collect().count
            }
            #expect(claimed == 1)
            let worker = Self.worker(db, [kind])
            #expect(try await worker.runUntilIdle() == 0, "leased to the dead worker")
            try await db.owner.withTransaction {
                try await $0.query("UPDATE jobs SET lease_until = now() - interval '1 second' WHERE id = \(id)", logger: Self.logger)
            }
            let recovered = try await db.worker.withTransaction {
                try await $0.query("SELECT job_recover_expired()", logger: Self.logger).collect().first!.decode(Int.self)
            }
            #expect(recovered == 1)
            #expect(try await worker.runUntilIdle() == 1)
            #expect(runs.all == [id])
            // The dead worker's late report changes nothing.
            let late = try await db.worker.withTransaction {
                try await $0.query("SELECT job_complete('dead-worker', ARRAY[\(id)]::bigint[])", logger: Self.logger).collect().count
            }
            #expect(late == 0)
            let attempts = try await db.owner.withTransaction {
                try await $0.query("SELECT attempts, state FROM jobs WHERE id = \(id)", logger: Self.logger).collect().first!.decode(
                    (Int, String).self
                )
            }
            #expect(attempts == (2, "succeeded"))
        }
    }

    @Test func aJobRunsActingAsItsTenantAndSeesNoOtherTenant() async throws {
        try await TestApp.with { db, people, client in
            _ = try await CaseWorkflowTests.register(client, people["wittenCM"].token)
            _ = try await CaseWorkflowTests.register(
                client,
                people["hattingenCM"].token,
                json: CaseWorkflowTests.amira.replacingOccurrences(of: "Amira", with: "Hatice")
            )
            let seen = Mutex<[String]>([])
            let kind = JobKind(
                "test.look",
                run: .inTenantTransaction { connection, context in
                    let names = try await connection.query("SELECT first_name FROM clients", logger: context.logger).collect().map {
                        try $0.decode(String.self)
                    }
                    let acting = try await connection.query("SELECT app_current_tenant()", logger: context.logger).collect().first!.decode(UUID.self)
                    #expect(acting == context.job.tenantID)
                    seen.withLock { $0 += names }
                }
            )
            let witten = try await db.owner.withTransaction {
                try await $0.query("SELECT id FROM tenants WHERE slug = 'witten'", logger: Self.logger).collect().first!.decode(UUID.self)
            }
            _ = try await Self.enqueue(db, kind, tenant: witten)
            #expect(try await Self.worker(db, [kind]).runUntilIdle() == 1)
            #expect(seen.withLock { $0 } == ["Amira"])
            // And a tenant cannot queue a job for another tenant.
            await #expect(throws: PSQLError.self) {
                try await db.app.withTenant(witten) { connection in
                    try await JobQueue.enqueue(kind, tenant: JobQueue.platformTenant, on: connection, logger: Self.logger)
                }
            }
        }
    }

    @Test func onlyThePlatformTenantOperatesTheQueue() async throws {
        try await TestDatabase.with { db in
            let tenants = try await db.applyENKreis()
            let witten = try #require(tenants.first { $0.tenant.slug == "witten" }).id
            await #expect(throws: PSQLError.self) {
                try await db.app.withTenant(witten) { try await JobQueue.stats(on: $0, logger: Self.logger) }
            }
            _ = try await Self.enqueue(db, Jobs.noop, count: 3)
            let stats = try await db.app.withTenant(JobQueue.platformTenant) { try await JobQueue.stats(on: $0, logger: Self.logger) }
            #expect(stats.count("queued") == 3)
        }
    }

    @Test func platformAdministratorsRetryAndCancelJobsThroughTheAPIAndThePage() async throws {
        try await TestApp.with { db, people, client in
            let admin = people["platform"].token
            let ids = try await Self.enqueue(db, Jobs.noop, count: 2)
            try await db.owner.withTransaction {
                try await $0.query("UPDATE jobs SET state = 'parked', last_error = 'mail server down', finished_at = now()", logger: Self.logger)
            }
            let parked = try await client.api(.get, "/api/v1/jobs?state=parked", token: admin).array
            #expect(parked.map { $0["last_error"] as? String } == ["mail server down", "mail server down"])
            #expect(try await client.api(.get, "/api/v1/jobs?state=lost", token: admin).status == .unprocessableContent)
            #expect(try await client.api(.post, "/api/v1/jobs/\(ids[0])/retry", token: people["wittenCM"].token).status == .forbidden)
            #expect(try await client.api(.post, "/api/v1/jobs/\(ids[0])/retry", token: admin).object["state"] as? String == "queued")
            #expect(try await client.api(.post, "/api/v1/jobs/\(ids[0])/cancel", token: admin).object["state"] as? String == "cancelled")
            #expect(try await client.api(.post, "/api/v1/jobs/\(ids[0])/cancel", token: admin).status == .conflict)
            var browser = WebBrowser()
            _ = try await browser.signIn(people["platform"].email, client)
            _ = try await browser.get("/betrieb/jobs?state=parked", client)
            let retried = try await browser.post("/betrieb/jobs/\(ids[1])/wiederholen", [], client)
            #expect(retried.headers[.location]?.hasPrefix("/betrieb/jobs?hinweis=Job") == true)
            #expect(try await Self.states(db) == ["cancelled": 1, "queued": 1])
            let audited = try await db.owner.withTransaction {
                try await $0.query("SELECT count(*)::integer FROM audit_log WHERE action IN ('job.retried', 'job.cancelled')", logger: Self.logger)
                    .collect().first!.decode(Int.self)
            }
            #expect(audited == 3)
        }
    }
}
