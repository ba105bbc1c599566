import Foundation
import Hummingbird

/// The request context of every route: who is signed in, if anyone, and from where.
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by `AuthenticationMiddleware` from a bearer token (API) or a session cookie (web).
    public var identity: Identity? { didSet { trace.tenant = identity?.tenant.slug } }
    /// A web session whose password was right and whose TOTP code is still to come.
    public var pendingSecondFactor: Identity?
    /// The connection's peer; `RequestLog` replaces it with the client a trusted proxy names (`TrustedProxies`).
    public var clientAddress: String?
    /// What the request's log line needs from inside the router (`RequestLog`).
    public var trace = RequestTrace()

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.clientAddress = source.channel.remoteAddress?.ipAddress
    }

    /// Form posts and JSON bodies are small; the limit is enforced before anything is parsed.
    public var maxUploadSize: Int { 256 * 1024 }
}

/// The context of a guarded route: someone is signed in, and the policy let them in.
public struct SignedInContext: ChildRequestContext {
    public typealias ParentContext = AppRequestContext
    public var coreContext: CoreRequestContextStorage
    public let identity: Identity
    public let clientAddress: String?
    /// The submitted form of a web POST (its CSRF token already checked); empty otherwise.
    public var form: Form = Form()

    public init(context: AppRequestContext) throws {
        guard let identity = context.identity else {
            throw DomainError.unauthorized("Bitte melden Sie sich an: Diese Adresse ist nur für angemeldete Personen.")
        }
        self.coreContext = context.coreContext
        self.identity = identity
        self.clientAddress = context.clientAddress
    }

    /// Shorthand for an audit event caused by this request's identity.
    public func audit(
        _ action: String,
        in tenant: UUID? = nil,
        objectType: String? = nil,
        objectID: String? = nil,
        detail: [String: String] = [:]
    ) -> AuditEvent {
        AuditEvent(action, by: identity, in: tenant, objectType: objectType, objectID: objectID, detail: detail, clientAddress: clientAddress)
    }
}

extension SignedInContext {
    /// The id a path parameter names (`/faelle/{id}`): 404 when it is not a UUID, as for an id that names nothing.
    public func id(_ name: String = "id") throws -> UUID {
        let text = try parameters.decoded(name)
        guard let id = UUID(uuidString: text) else { throw DomainError.notFound("'\(text)' ist keine gültige Kennung (UUID).") }
        return id
    }
}

extension Parameters {
    /// A path parameter, percent-decoded (`witte%6E` is `witten`).
    public func decoded(_ name: String) throws -> String {
        let raw = try require(name)
        return raw.removingPercentEncoding ?? raw
    }
}
