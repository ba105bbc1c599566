import Foundation
import Hummingbird
import Synchronization

/// Counts the polls waiting for the signed-in person's tenant, for the *Umfragen* entry of the page navigation
/// (`Pages.openPolls`): only for web pages read with GET by those who answer polls (case managers, team leads).
/// A failure to count never fails the page: the navigation then shows *Umfragen* without a number.
///
/// The count is kept per tenant for a minute, so that a page view does not pay a transaction of its own for its
/// navigation; any write request of this server (sending a poll, answering one) forgets every count at once.
/// Another server's poll shows in the number within that minute.
struct OpenPollsMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let work: TenantWork
    let policy: Policy
    let counts = Counts(lifetime: .seconds(60))

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .get else {
            defer { counts.forgetAll() }
            return try await next(request, context)
        }
        guard let identity = context.identity, policy.allows(identity, .raiseProblems),
            !identity.mustSetUpSecondFactor, !AuthenticationMiddleware.isMachinePath(request.uri.path), !request.uri.path.hasPrefix("/static/")
        else { return try await next(request, context) }
        var count = counts[identity.tenant.id]
        if count == nil {
            count = try? await work.work(identity, clientAddress: nil) { connection, _ in
                try await PollRecords.openCount(on: connection, logger: work.logger)
            }
            if let count { counts[identity.tenant.id] = count }
        }
        return try await Pages.$openPolls.withValue(count) { try await next(request, context) }
    }

    /// Open polls per tenant, each for `lifetime` at most.
    final class Counts: Sendable {
        private let entries = Mutex<[UUID: (count: Int, until: ContinuousClock.Instant)]>([:])
        let lifetime: Duration

        init(lifetime: Duration) { self.lifetime = lifetime }

        subscript(tenant: UUID) -> Int? {
            get { entries.withLock { $0[tenant].flatMap { ContinuousClock.now < $0.until ? $0.count : nil } } }
            set { entries.withLock { $0[tenant] = newValue.map { ($0, ContinuousClock.now + lifetime) } } }
        }

        func forgetAll() { entries.withLock { $0.removeAll() } }
    }
}
