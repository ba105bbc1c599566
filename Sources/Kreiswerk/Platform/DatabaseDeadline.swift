import Foundation
import Logging
import NIOCore
import PostgresNIO
import Synchronization

/// Every wait on the database ends: within a deadline, whatever the driver does.
///
/// Why this is needed: PostgresNIO 1.33 writes each statement to the connection's channel with
/// `channel.write(task, promise: nil)`. Once the channel has closed (PostgreSQL restarted or stopped with
/// `-m immediate`, the backend ended with `pg_terminate_backend`) its handlers are removed, NIO drops the
/// write, and the statement's promise is never completed: the caller waits forever. Task cancellation does
/// not reach it either (the driver awaits the promise without a cancellation handler).
///
/// What is sound, and used here:
/// - Closing the connection fails every statement the driver still tracks (a slow statement, a server that
///   stopped answering, a half-open TCP connection). `guarding` schedules that close on the connection's
///   event loop at the deadline and turns the error into `DatabaseDeadlineExceeded`.
/// - A statement whose promise was already lost can never be woken up: only leaving it behind helps. Work
///   whose closure may escape (the job worker's own statements, each job, `/readyz`) runs through `race`: an
///   unstructured task does the work, and the caller continues at whichever comes first — the work's result,
///   the deadline, or the caller's cancellation — through one continuation resumed exactly once. The task left
///   behind holds only its closed connection, which the pool has already dropped. (A task group would not do:
///   it waits for all of its children, including the one that never returns.)
/// - `Database.withTransaction` takes a non-escaping body that runs in the caller's task, so it cannot be left
///   behind by itself. It gives the driver as few chances as it can to lose a statement (`inTransaction` never
///   writes BEGIN, COMMIT or ROLLBACK to a closed connection), waits for the lease through `leasing`, which a
///   deadline ends (the pool would otherwise wait up to 60 s for its circuit breaker while PostgreSQL is down),
///   and `guarding` watches the connection: when the body still waits about a second after its connection closed,
///   it waits for a lost statement, and the enclosing `race` — every request (`DeadlineResponder`), every job and
///   the worker's own statements run in one — goes on without it.
public enum DatabaseDeadline {
    /// The longest one wait on the database may take: KREISWERK_DB_DEADLINE_SECONDS, else 30 s (no
    /// statement_timeout is set on the roles; set the deadline a few seconds above one if you set it).
    public static let configured: Duration = {
        if let text = ProcessInfo.processInfo.environment["KREISWERK_DB_DEADLINE_SECONDS"], let seconds = Double(text), seconds > 0 {
            return .milliseconds(Int(seconds * 1000))
        }
        return .seconds(30)
    }()

    /// The deadline for the current task's database waits. The server sets `configured` for each request
    /// (`DeadlineResponder`) and the job worker for its own work (a job runs with its own timeout); commands
    /// (`migrate`, `demo seed`, `audit verify`, …) wait as long as their work takes.
    @TaskLocal public static var limit: Duration = unbounded

    /// No deadline worth the name: a week.
    public static let unbounded: Duration = .seconds(7 * 24 * 60 * 60)

    // MARK: - Leasing a connection

    /// Runs `body` with a connection of `client`'s pool, waiting at most `limit` for the pool to give one.
    ///
    /// The lease is held by a small task of its own that hands the connection over and waits until `body` is done
    /// (`PostgresClient` offers no lease outside `withConnection`); if the deadline or the caller's cancellation comes
    /// first, that task is cancelled and a connection it still gets goes straight back.
    static func leasing<Result: Sendable>(
        from client: PostgresClient,
        limit: Duration = DatabaseDeadline.limit,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let lease = Lease()
        let lessee = Task {
            do {
                try await client.withConnection { connection in
                    guard lease.deliver(connection) else { return }
                    await lease.untilGivenBack()
                }
            } catch {
                lease.abandon(error)
            }
        }
        let alarm = Task {
            guard (try? await Task.sleep(for: limit)) != nil else { return }
            lease.abandon(DatabaseDeadlineExceeded(limit: limit, waitingFor: "a connection"))
            lessee.cancel()
        }
        defer { alarm.cancel() }
        let connection = try await withTaskCancellationHandler {
            try await lease.connection()
        } onCancel: {
            lease.abandon(CancellationError())
            lessee.cancel()
        }
        defer { lease.giveBack() }
        return try await body(connection)
    }

    // MARK: - Bounding the work on one connection

    /// Runs `body`, which works on `connection`, and closes the connection if `limit` passes first: the driver then
    /// fails what it still tracks, and the caller gets `DatabaseDeadlineExceeded`.
    ///
    /// If `body` is still waiting a moment after its connection closed (for whatever reason), it waits for a statement
    /// the driver lost: nothing will wake it. Then the enclosing `race` (a request, a job, the worker's own work) is
    /// told to go on without it; outside one, the caller stays with it.
    static func guarding<Result: Sendable>(
        _ connection: PostgresConnection,
        limit: Duration = DatabaseDeadline.limit,
        logger: Logger,
        isolation: isolated (any Actor)? = #isolation,
        _ body: () async throws -> Result
    ) async throws -> Result {
        let watch = Watch(connection: connection, limit: limit, abandon: DatabaseDeadline.abandon?.run, logger: logger)
        let tick = TimeAmount.milliseconds(Watch.tickMilliseconds)
        let alarm = connection.eventLoop.scheduleRepeatedTask(initialDelay: tick, delay: tick) { _ in watch.tick() }
        defer {
            watch.finish()
            alarm.cancel()
        }
        do {
            return try await body()
        } catch {
            if watch.isSet { throw DatabaseDeadlineExceeded(limit: limit, waitingFor: "the transaction", cause: String(reflecting: error)) }
            throw error
        }
    }

    // MARK: - Leaving work behind

    /// Set by `race` for the work it runs: lets a transaction stuck on a lost statement end the race at once.
    @TaskLocal static var abandon: Abandon? = nil

    /// What `abandon` holds. A class: a task-local of optional function type crashed release builds (Swift 6.3:
    /// swift_task_localValuePush met no metadata for the value's type).
    final class Abandon: Sendable {
        let run: @Sendable (any Error) -> Void
        init(_ run: @escaping @Sendable (any Error) -> Void) { self.run = run }
    }

    /// Runs `work` in a task of its own and returns its result — or throws `DatabaseDeadlineExceeded` when `limit`
    /// passes first, or `CancellationError` when the caller is cancelled first — without waiting for `work` to end.
    /// `work` is cancelled then; if it hangs on a lost statement, it is left behind.
    public static func race<Result: Sendable>(
        _ limit: Duration = DatabaseDeadline.limit,
        waitingFor: String,
        _ work: @escaping @Sendable () async throws -> Result
    ) async throws -> Result {
        let outcome = Outcome<Result>()
        let worker = Task {
            await DatabaseDeadline.$abandon.withValue(Abandon { outcome.finish(.failure($0)) }) {
                do { outcome.finish(.success(try await work())) } catch { outcome.finish(.failure(error)) }
            }
        }
        let alarm = Task {
            guard (try? await Task.sleep(for: limit)) != nil else { return }
            outcome.finish(.failure(DatabaseDeadlineExceeded(limit: limit, waitingFor: waitingFor)))
        }
        defer {
            alarm.cancel()
            worker.cancel()
        }
        return try await withTaskCancellationHandler {
            try await outcome.value()
        } onCancel: {
            outcome.finish(.failure(CancellationError()))
        }
    }
}

/// The database did not answer within the deadline; the connection was closed and nothing was committed.
public struct DatabaseDeadlineExceeded: Error, CustomStringConvertible {
    public var limit: Duration
    /// What was waited for: a connection, the transaction, a job's claim.
    public var waitingFor: String
    /// What the driver reported when the connection was closed under it, if anything.
    public var cause: String?

    public var description: String {
        "the database did not answer within \(limit.seconds) s (waiting for \(waitingFor))" + (cause.map { "; \($0)" } ?? "")
    }
}

/// The connection was closed before the transaction committed, so the server rolled it back.
public struct DatabaseConnectionLost: Error, CustomStringConvertible {
    public var description: String { "the database connection was closed before the transaction committed; nothing was written" }
}

extension Duration {
    fileprivate var nanoseconds: Int64 {
        components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
    }
    fileprivate var seconds: String {
        let value = Double(components.seconds) + Double(components.attoseconds) / 1e18
        return value == value.rounded() ? String(Int(value)) : String(value)
    }
}

/// Watches one transaction's connection on its event loop: closes it at the deadline, and tells the enclosing race to go
/// on when the work is still waiting a moment after the connection closed.
private final class Watch: Sendable {
    static let tickMilliseconds: Int64 = 250
    /// Ticks after the close that the work may still take to see its statement fail: about 1 s.
    static let graceTicks = 4

    private struct State {
        var elapsed: Int64 = 0
        var expired = false
        var closedTicks = 0
        var finished = false
        var abandoned = false
    }
    private let state = Mutex(State())
    let connection: PostgresConnection
    let limit: Duration
    let abandon: (@Sendable (any Error) -> Void)?
    let logger: Logger

    init(connection: PostgresConnection, limit: Duration, abandon: (@Sendable (any Error) -> Void)?, logger: Logger) {
        self.connection = connection
        self.limit = limit
        self.abandon = abandon
        self.logger = logger
    }

    var isSet: Bool { state.withLock { $0.expired } }

    func finish() { state.withLock { $0.finished = true } }

    func tick() {
        let closed = connection.isClosed
        let (expire, leave) = state.withLock { state -> (Bool, Bool) in
            guard !state.finished else { return (false, false) }
            state.elapsed += Self.tickMilliseconds * 1_000_000
            var expire = false
            if !state.expired && state.elapsed >= limit.nanoseconds {
                state.expired = true
                expire = true
            }
            if closed { state.closedTicks += 1 }
            guard state.closedTicks > Self.graceTicks, !state.abandoned else { return (expire, false) }
            state.abandoned = true
            return (expire, true)
        }
        if expire {
            logger.warning(
                "the database did not answer within the deadline; closing the connection",
                metadata: ["deadline_seconds": "\(limit.seconds)", "connection": "\(connection.id)"]
            )
            connection.close().whenComplete { _ in }
        }
        if leave {
            logger.error(
                "a statement on a closed database connection was never answered; going on without it",
                metadata: ["connection": "\(connection.id)", "left_behind": "\(abandon != nil)"]
            )
            abandon?(
                DatabaseDeadlineExceeded(
                    limit: limit,
                    waitingFor: "the transaction",
                    cause: "the connection closed and a statement was never answered"
                )
            )
        }
    }
}

/// One result, delivered once to one waiter: the first `finish` wins, later ones are ignored.
private final class Outcome<Value: Sendable>: Sendable {
    private struct State {
        var result: Result<Value, any Error>?
        var waiter: CheckedContinuation<Value, any Error>?
    }
    private let state = Mutex(State())

    func finish(_ result: Result<Value, any Error>) {
        let waiter = state.withLock { state -> CheckedContinuation<Value, any Error>? in
            guard state.result == nil else { return nil }
            state.result = result
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(with: result)
    }

    func value() async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            let result = state.withLock { state -> Result<Value, any Error>? in
                if state.result == nil { state.waiter = continuation }
                return state.result
            }
            if let result { continuation.resume(with: result) }
        }
    }
}

/// Hands one pooled connection from the task that leases it to the task that uses it, and back.
private final class Lease: Sendable {
    private struct State {
        var connection: PostgresConnection?
        var error: (any Error)?
        var waiter: CheckedContinuation<PostgresConnection, any Error>?
        var givenBack: CheckedContinuation<Void, Never>?
        /// The user has it.
        var taken = false
        /// Given back, or abandoned before it was taken: the lessee returns it to the pool.
        var finished = false
    }
    private let state = Mutex(State())

    /// Called by the lessee with the pool's connection; false if nobody wants it any more.
    func deliver(_ connection: PostgresConnection) -> Bool {
        let (accepted, waiter) = state.withLock { state -> (Bool, CheckedContinuation<PostgresConnection, any Error>?) in
            guard !state.finished else { return (false, nil) }
            guard let waiter = state.waiter else {
                state.connection = connection
                return (true, nil)
            }
            state.waiter = nil
            state.taken = true
            return (true, waiter)
        }
        waiter?.resume(returning: connection)
        return accepted
    }

    /// The lessee waits here until the user is done.
    func untilGivenBack() async {
        await withCheckedContinuation { continuation in
            let now = state.withLock { state -> Bool in
                if state.finished { return true }
                state.givenBack = continuation
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// The user waits here for the connection.
    func connection() async throws -> PostgresConnection {
        try await withCheckedThrowingContinuation { continuation in
            let ready = state.withLock { state -> Result<PostgresConnection, any Error>? in
                if let connection = state.connection, !state.finished {
                    state.taken = true
                    return .success(connection)
                }
                if let error = state.error { return .failure(error) }
                state.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(with: ready) }
        }
    }

    /// The deadline, the caller's cancellation or the pool's error came before the user took the connection.
    func abandon(_ error: any Error) {
        let (waiter, givenBack) = state.withLock {
            state -> (CheckedContinuation<PostgresConnection, any Error>?, CheckedContinuation<Void, Never>?) in
            guard !state.taken, state.error == nil else { return (nil, nil) }
            state.error = error
            state.finished = true
            defer {
                state.waiter = nil
                state.givenBack = nil
            }
            return (state.waiter, state.givenBack)
        }
        waiter?.resume(throwing: error)
        givenBack?.resume()
    }

    /// The user is done: the lessee returns the connection to the pool.
    func giveBack() {
        let givenBack = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.finished = true
            defer { state.givenBack = nil }
            return state.givenBack
        }
        givenBack?.resume()
    }
}
