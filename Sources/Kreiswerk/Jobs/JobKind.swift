import Foundation
import Logging
import PostgresNIO

/// A job the worker claimed: what to run, for which tenant, which attempt.
public struct ClaimedJob: Sendable {
    public var id: Int
    public var tenantID: UUID
    public var kind: String
    public var payload: JobPayload
    public var attempt: Int
    public var maxAttempts: Int
    public var timeout: Duration
    public var enqueuedAt: Date
}

/// What a job carries: ids and instants, never personal data.
public typealias JobPayload = [String: String]

/// What a handler gets besides its job: the database, and the instant it acts as of.
public struct JobContext: Sendable {
    public let job: ClaimedJob
    public let database: Database
    public let logger: Logger
    /// The instant the job acts as of: the payload's `as_of` (a sweep, a schedule), else now.
    public let now: Date

    /// Runs `body` in a transaction acting as the job's tenant — never a wider one.
    public func inTenant<Result: Sendable>(_ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        try await database.withTenant(job.tenantID, body)
    }
}

/// One kind of job and how the queue treats it: where it queues, how often it is tried, how long it may run.
public struct JobKind: Sendable {
    /// How the handler's effect and the job's completion relate.
    public enum Run: Sendable {
        /// In a transaction acting as the job's tenant; the job completes in the same transaction,
        /// so its effect happens exactly once however often the job is attempted.
        case inTenantTransaction(@Sendable (PostgresConnection, JobContext) async throws -> Void)
        /// Outside a transaction, for effects beyond the database (e-mail): at least once.
        case standalone(@Sendable (JobContext) async throws -> Void)
    }

    public let name: String
    public var queue: String
    public var priority: Int
    public var maxAttempts: Int
    public var timeout: Duration
    /// The first retry waits about this long, each further one twice as long (with jitter), up to `maximumBackoff`.
    public var backoff: Duration
    public var maximumBackoff: Duration
    public let run: Run

    public init(
        _ name: String,
        queue: String = "default",
        priority: Int = 0,
        maxAttempts: Int = 5,
        timeout: Duration = .seconds(60),
        backoff: Duration = .seconds(10),
        maximumBackoff: Duration = .seconds(3600),
        run: Run
    ) {
        self.name = name
        self.queue = queue
        self.priority = priority
        self.maxAttempts = maxAttempts
        self.timeout = timeout
        self.backoff = backoff
        self.maximumBackoff = maximumBackoff
        self.run = run
    }

    /// The wait before attempt `attempt + 1`: exponential with full jitter (half to the full step).
    public func delay(after attempt: Int, random: Double = Double.random(in: 0...1)) -> Duration {
        let step = min(backoff * (1 << min(max(attempt - 1, 0), 20)), maximumBackoff)
        return step * (0.5 + random / 2)
    }
}

/// The kinds a worker can run, by name.
public struct JobKinds: Sendable {
    public private(set) var byName: [String: JobKind] = [:]

    public init(_ kinds: [JobKind] = []) {
        for kind in kinds { add(kind) }
    }

    public mutating func add(_ kind: JobKind) {
        precondition(byName[kind.name] == nil, "job kind \(kind.name) defined twice")
        byName[kind.name] = kind
    }

    public subscript(name: String) -> JobKind? { byName[name] }
}

/// A job of a kind this worker does not know. Workers claim only kinds they know, so this shows only if
/// a kind was removed from a release while its jobs were running.
struct UnknownJobKind: Error, CustomStringConvertible {
    var kind: String
    var description: String { "no handler for job kind '\(kind)' in this release" }
}
