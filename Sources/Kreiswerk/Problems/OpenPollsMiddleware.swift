import Foundation
import Hummingbird

/// Counts the polls waiting for the signed-in person's tenant, for the *Umfragen* entry of the page navigation
/// (`Pages.openPolls`): only for web pages read with GET by those who answer polls (case managers, team leads).
/// A failure to count never fails the page: the navigation then shows *Umfragen* without a number.
struct OpenPollsMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let work: TenantWork
    let policy: Policy

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .get, let identity = context.identity, policy.allows(identity, .raiseProblems),
            !identity.mustSetUpSecondFactor, !AuthenticationMiddleware.isMachinePath(request.uri.path), !request.uri.path.hasPrefix("/static/")
        else { return try await next(request, context) }
        let count = try? await work.work(identity, clientAddress: nil) { connection, _ in
            try await PollRecords.openCount(on: connection, logger: work.logger)
        }
        return try await Pages.$openPolls.withValue(count) { try await next(request, context) }
    }
}
