import Hummingbird
import Logging

/// Answers every request, even one whose transaction waits for a statement PostgresNIO lost (see `DatabaseDeadline`):
/// the request runs in a task of its own, and when its transaction is found stuck on a closed connection — or, as a last
/// resort, when `limit` has passed — the client gets 503 with Retry-After and the stuck task is left behind.
struct DeadlineResponder<Inner: HTTPResponder>: HTTPResponder {
    typealias Context = Inner.Context
    let inner: Inner
    let limit: Duration
    let pages: Pages?
    let logger: Logger

    /// `limit`: each request's last resort; by default two database deadlines (the lease and the work) and 5 s.
    init(_ inner: Inner, limit: Duration = DatabaseDeadline.configured * 2 + .seconds(5), pages: Pages?, logger: Logger) {
        self.inner = inner
        self.limit = limit
        self.pages = pages
        self.logger = logger
    }

    func respond(to request: Request, context: Context) async throws -> Response {
        // The context goes to the request's task and is not touched here again: handing it over is safe, although
        // Hummingbird's context types do not say they are Sendable.
        let handover = Handover(context)
        do {
            return try await DatabaseDeadline.$limit.withValue(DatabaseDeadline.configured) {
                try await DatabaseDeadline.race(limit, waitingFor: "the request") { [inner] in
                    try await inner.respond(to: request, context: handover.value)
                }
            }
        } catch let error as DatabaseDeadlineExceeded {
            logger.error("request left behind", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            return ProblemMiddleware<AppRequestContext>.unavailableResponse(path: request.uri.path, pages: pages)
        }
    }
}

private struct Handover<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
