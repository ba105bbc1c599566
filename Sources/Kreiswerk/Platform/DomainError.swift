/// What went wrong, in words a person can act on (German: these reach forms and API clients alike).
/// `ProblemMiddleware` maps each case to its HTTP status in one place.
public enum DomainError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 404: the object does not exist — or belongs to another tenant, which must not be told apart.
    case notFound(String)
    /// 409: the change clashes with what is there (a taken address or slug).
    case conflict(String)
    /// 412: someone else changed the object since it was read.
    case stale(String)
    /// 428: a change without the version it is based on.
    case versionRequired(String)
    /// 410: a link that was used or has expired.
    case gone(String)
    /// 401: not signed in, or the credentials are wrong.
    case unauthorized(String)
    /// 403: signed in, but the role does not allow it.
    case forbidden(String)
    /// 429: too many attempts; try again after `retryAfter` seconds.
    case throttled(String, retryAfter: Int)

    public var description: String { message }

    public var message: String {
        switch self {
        case .notFound(let m), .conflict(let m), .stale(let m), .versionRequired(let m), .gone(let m), .unauthorized(let m), .forbidden(let m),
            .throttled(let m, _):
            m
        }
    }
}

/// 409 for one field whose value is taken (an e-mail address, a slug, a field key):
/// the API names the field, and forms show the message next to it.
public struct FieldConflict: ProblemConvertible, Sendable, Equatable {
    public var field: String
    public var message: String

    public init(field: String, _ message: String) {
        self.field = field
        self.message = message
    }

    public var problem: Problem { Problem(.conflict, detail: message, errors: [field: message]) }
}
