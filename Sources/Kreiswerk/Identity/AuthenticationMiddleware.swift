import Foundation
import Hummingbird

/// Finds out who sends a request: a bearer token on machine paths (`/api/`, `/metrics`), the session cookie everywhere else.
/// It only identifies; what the identity may do is decided by the guard of each route.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    static let sessionCookie = "kw_session"

    let credentials: Credentials
    let database: Database
    let policy: Policy

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        if Self.isMachinePath(request.uri.path) {
            if let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") {
                let token = String(header.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
                context.identity = try await credentials.identity(bearer: token, on: database.client)
                if context.identity == nil {
                    throw DomainError.unauthorized(
                        "Der Token ist ungültig, abgelaufen oder widerrufen. Bitte neu anmelden (POST /api/v1/auth/login)."
                    )
                }
            }
        } else if let cookie = request.cookies[Self.sessionCookie]?.value, !cookie.isEmpty {
            if let (identity, pending) = try await credentials.identity(session: cookie, on: database.client) {
                if pending { context.pendingSecondFactor = identity } else { context.identity = identity }
            }
        }
        if request.method != .get && request.method != .head {
            defer { credentials.cache.forget(afterChangeBy: context.identity ?? context.pendingSecondFactor, policy: policy) }
            return try await next(request, context)
        }
        return try await next(request, context)
    }

    /// Paths that programs call with a bearer token (the API, Prometheus); people use the rest with a session.
    static func isMachinePath(_ path: String) -> Bool {
        path.hasPrefix("/api/") || path == "/metrics"
    }
}
