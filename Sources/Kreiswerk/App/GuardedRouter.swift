import Foundation
import HTTPTypes
import Hummingbird

/// Who may call a route: anyone, or a signed-in identity that the policy grants a permission.
public enum Access: Sendable, Equatable, CustomStringConvertible {
    case open
    case signedIn(Permission)

    public var description: String {
        switch self {
        case .open: "open"
        case .signedIn(let permission): "signed in, \(permission.rawValue)"
        }
    }
}

/// Registers every route together with its `Access`, and enforces it before the handler runs.
///
/// Routes are added through this type only; a test compares `rules` with the router's own
/// route list, so a route added past it (unguarded) fails the suite.
public final class GuardedRouter: @unchecked Sendable {
    public let router: Router<AppRequestContext>
    let policy: Policy
    /// Whether the public address is https: cookies get `Secure`.
    let secureCookies: Bool
    /// "METHOD /path" → access, for every route registered.
    public private(set) var rules: [String: Access] = [:]

    init(router: Router<AppRequestContext>, policy: Policy, secureCookies: Bool) {
        self.router = router
        self.policy = policy
        self.secureCookies = secureCookies
    }

    static func key(_ method: HTTPRequest.Method, _ path: String) -> String { "\(method) \(RouterPath(path))" }

    private func record(_ method: HTTPRequest.Method, _ path: String, _ access: Access) {
        let key = Self.key(method, path)
        precondition(rules[key] == nil, "route \(key) registered twice")
        rules[key] = access
    }

    /// A route anyone may call (sign-in, health, the API description).
    public func open<Output: ResponseGenerator>(
        _ method: HTTPRequest.Method,
        _ path: String,
        use handler: @escaping @Sendable (Request, AppRequestContext) async throws -> Output
    ) {
        record(method, path, .open)
        router.on(RouterPath(path), method: method, use: handler)
    }

    /// A web form anyone may post (sign-in, invitation): its double-submit CSRF token is checked first.
    public func openForm<Output: ResponseGenerator>(
        _ path: String,
        use handler: @escaping @Sendable (Request, AppRequestContext, Form) async throws -> Output
    ) {
        record(.post, path, .open)
        router.on(RouterPath(path), method: .post) { request, context in
            let form = try await Form.read(request, context: context)
            try CSRF.checkAnonymous(form, request)
            return try await handler(request, context, form)
        }
    }

    /// A route for signed-in identities that `permission` allows. Web posts carry the session's CSRF token.
    /// Unauthenticated web requests are sent to the sign-in page; API requests get 401.
    public func on<Output: ResponseGenerator>(
        _ method: HTTPRequest.Method,
        _ path: String,
        _ permission: Permission,
        use handler: @escaping @Sendable (Request, SignedInContext) async throws -> Output
    ) {
        record(method, path, .signedIn(permission))
        let policy = policy
        let isPage = !AuthenticationMiddleware.isMachinePath(path)
        router.on(RouterPath(path), method: method) { request, context -> Response in
            if isPage, context.identity == nil {
                let target = context.pendingSecondFactor != nil ? "/anmelden/zweiter-faktor" : "/anmelden"
                return Response.redirect(to: target, type: .normal)
            }
            var signedIn = try SignedInContext(context: context)
            if signedIn.identity.mustSetUpSecondFactor && permission != .ownAccount {
                if isPage { return Response.redirect(to: "/konto?zweiter-faktor=erforderlich", type: .normal) }
                throw DomainError.forbidden(
                    "Ihr Mandant verlangt einen zweiten Faktor. Richten Sie ihn unter /konto ein; bis dahin ist nur Ihr eigenes Konto erreichbar."
                )
            }
            guard policy.allows(signedIn.identity, permission) else {
                throw DomainError.forbidden(
                    "Ihre Rolle erlaubt das nicht. Wenden Sie sich an die Administration Ihres Mandanten, wenn Sie es brauchen."
                )
            }
            if isPage, method == .post {
                signedIn.form = try await Form.read(request, context: context)
                guard case .session(_, let token) = signedIn.identity.credential else { throw CSRF.refused }
                try CSRF.check(signedIn.form, session: token)
            }
            return try await handler(request, signedIn).response(from: request, context: signedIn)
        }
    }

    public func get<Output: ResponseGenerator>(
        _ path: String,
        _ permission: Permission,
        use handler: @escaping @Sendable (Request, SignedInContext) async throws -> Output
    ) {
        on(.get, path, permission, use: handler)
    }

    public func post<Output: ResponseGenerator>(
        _ path: String,
        _ permission: Permission,
        use handler: @escaping @Sendable (Request, SignedInContext) async throws -> Output
    ) {
        on(.post, path, permission, use: handler)
    }
}
