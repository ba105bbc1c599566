import Foundation
import Hummingbird
import Logging
import PostgresNIO

/// An error as `application/problem+json` (RFC 9457): what went wrong, in words a person can act on.
public struct Problem: Error, HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    public var title: String
    public var detail: String
    /// Per-field messages for invalid input, keyed by the field's name.
    public var errors: [String: String]?

    public init(_ status: HTTPResponse.Status, title: String? = nil, detail: String, errors: [String: String]? = nil) {
        self.status = status
        self.title = title ?? status.reasonPhrase
        self.detail = detail
        self.errors = errors
    }

    private struct Body: Encodable {
        var type = "about:blank"
        var title: String
        var status: Int
        var detail: String
        var instance: String
        var errors: [String: String]?
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        try response(path: request.uri.path)
    }

    func response(path: String) throws -> Response {
        let body = Body(title: title, status: status.code, detail: detail, instance: path, errors: errors)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Response(
            status: status,
            headers: [.contentType: "application/problem+json; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: try encoder.encode(body)))
        )
    }
}

/// An error of a capability that knows its own problem (status, message, fields).
public protocol ProblemConvertible: Error {
    var problem: Problem { get }
}

/// Turns every error into a response in one place: problem+json for the API and the operations
/// endpoints, a German HTML page for everything else. Domain errors and invalid input keep their
/// status; anything unexpected becomes a 500 whose details go to the log only.
public struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    let pages: Pages?

    public init(pages: Pages? = nil) { self.pages = pages }

    /// The problem a known error stands for; nil for an unexpected one.
    static func problem(for error: any Error, path: String, method: HTTPRequest.Method) -> (Problem, HTTPFields)? {
        switch error {
        case let problem as Problem:
            return (problem, [:])
        case let convertible as any ProblemConvertible:
            return (convertible.problem, [:])
        case let error as DomainError:
            let status: HTTPResponse.Status =
                switch error {
                case .notFound: .notFound
                case .conflict: .conflict
                case .stale: .preconditionFailed
                case .versionRequired: .init(code: 428, reasonPhrase: "Precondition Required")
                case .gone: .gone
                case .unauthorized: .unauthorized
                case .forbidden: .forbidden
                case .throttled: .tooManyRequests
                }
            var headers: HTTPFields = [:]
            if case .throttled(_, let seconds) = error { headers[.retryAfter] = "\(seconds)" }
            if case .unauthorized = error, path.hasPrefix("/api/") { headers[.wwwAuthenticate] = "Bearer realm=\"kreiswerk\"" }
            return (Problem(status, detail: error.message), headers)
        case let invalid as InvalidInput:
            return (
                Problem(
                    .unprocessableContent,
                    detail: "Die Angaben sind nicht vollständig oder nicht gültig: \(invalid.description)",
                    errors: invalid.errors
                ), [:]
            )
        case let error as PSQLError where ["22021", "22P05"].contains(error.serverInfo?[.sqlState] ?? ""):
            // PostgreSQL text cannot hold a NUL character; the transaction was rolled back, nothing was written.
            return (
                Problem(
                    .badRequest,
                    detail: "The request contains a character that cannot be stored (a NUL, \\u0000). Remove it and send the request again."
                ), [:]
            )
        case let error as PSQLError where error.serverInfo?[.sqlState] == "23514":
            // A check constraint caught what the form checks let through (e.g. a text at its length limit that the
            // database counts differently); the transaction was rolled back, nothing was written.
            return (
                Problem(
                    .unprocessableContent,
                    detail:
                        "Eine Angabe ist zu lang, leer oder nicht zulässig (Regel \(error.serverInfo?[.constraintName] ?? "?")). Bitte kürzen oder korrigieren."
                ),
                [:]
            )
        case let error where Self.databaseUnavailable(error):
            // PostgreSQL is restarting, failing over or unreachable: nothing was written that was not also rolled back;
            // say so and when to try again, as /readyz does, instead of a 500.
            return Self.unavailable
        case let error as DecodingError:
            return (Problem(.badRequest, detail: "The request body is not the JSON this endpoint expects: \(Self.describe(error))"), [:])
        case let error as HTTPError:
            let detail =
                error.body
                ?? (error.status == .notFound
                    ? "There is nothing at \(path). Check the address."
                    : error.status == .methodNotAllowed ? "\(method) is not allowed on \(path)." : error.status.reasonPhrase)
            return (Problem(error.status, detail: detail), error.headers)
        case let error as any HTTPResponseError:
            return (Problem(error.status, detail: error.status.reasonPhrase), [:])
        default:
            return nil
        }
    }

    static var unavailable: (Problem, HTTPFields) {
        (
            Problem(
                .serviceUnavailable,
                detail: "Die Datenbank ist gerade nicht erreichbar. Bitte in einigen Sekunden erneut versuchen; nichts wurde gespeichert."
            ),
            [.retryAfter: "5"]
        )
    }

    /// The 503 for a request whose database work was left behind (`DeadlineResponder`), rendered as `handle` renders it.
    static func unavailableResponse(path: String, pages: Pages?) -> Response {
        let (problem, headers) = unavailable
        var response: Response
        if let pages, !isMachineFacing(path) {
            response = pages.render(
                "error",
                ["status": problem.status.code, "heading": germanHeading(problem.status), "message": problem.detail],
                identity: nil,
                path: path,
                status: problem.status
            )
        } else {
            response = (try? problem.response(path: path)) ?? Response(status: problem.status)
        }
        response.headers.append(contentsOf: headers)
        return response
    }

    /// Whether `error` says the database cannot be reached right now (connection lost or refused, server shutting down or
    /// starting, too many connections), rather than that the request was wrong.
    static func databaseUnavailable(_ error: any Error) -> Bool {
        // The pool gives up creating connections with a ConnectionPoolError from PostgresNIO's underscored pool module.
        if String(reflecting: type(of: error)).hasSuffix("ConnectionPoolError") {
            return String(reflecting: error).contains("connectionCreationCircuitBreakerTripped")
        }
        if error is DatabaseDeadlineExceeded || error is DatabaseConnectionLost { return true }
        guard let error = error as? PSQLError else { return false }
        if [.connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed].contains(error.code) { return true }
        guard let state = error.serverInfo?[.sqlState] else { return false }
        return state.hasPrefix("08") || ["57P01", "57P02", "57P03", "53300"].contains(state)
    }

    static func describe(_ error: DecodingError) -> String {
        // Keys as the client wrote them: snake_case, whatever the Swift property is called.
        func path(_ keys: [any CodingKey]) -> String { keys.map { snakeCase($0.stringValue) }.joined(separator: ".") }
        switch error {
        case .keyNotFound(let key, let context): return "the field '\(path(context.codingPath + [key]))' is missing"
        case .typeMismatch(_, let context), .valueNotFound(_, let context): return "the field '\(path(context.codingPath))' has the wrong type"
        case .dataCorrupted(let context):
            guard !context.codingPath.isEmpty else { return "it is not valid JSON" }
            return "the field '\(path(context.codingPath))' is not valid (\(context.debugDescription))"
        @unknown default: return "it cannot be read"
        }
    }

    static func snakeCase(_ key: String) -> String {
        key.reduce(into: "") { result, character in
            if character.isUppercase { result += "_" + character.lowercased() } else { result.append(character) }
        }
    }

    static func isMachineFacing(_ path: String) -> Bool {
        path.hasPrefix("/api/") || path == "/healthz" || path == "/readyz" || path == "/metrics"
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let path = request.uri.path
            var problem: Problem
            var headers: HTTPFields = [:]
            if let (known, extra) = Self.problem(for: error, path: path, method: request.method) {
                problem = known
                headers = extra
            } else {
                let reference = UUID().uuidString.prefix(8).lowercased()
                context.logger.error(
                    "unhandled error",
                    metadata: ["reference": "\(reference)", "path": "\(path)", "error": "\(String(reflecting: error))"]
                )
                problem = Problem(
                    .internalServerError,
                    detail:
                        "Something went wrong on our side. Nothing you did caused it. Please try again; if it keeps happening, give the operators the reference \(reference)."
                )
                if !Self.isMachineFacing(path) {
                    problem.detail =
                        "Bei uns ist ein Fehler aufgetreten, nicht durch Ihre Eingabe. Bitte versuchen Sie es noch einmal; wenn es wieder passiert, nennen Sie dem Betrieb die Kennung \(reference)."
                }
            }
            var response: Response
            if let pages, !Self.isMachineFacing(path) {
                response = pages.render(
                    "error",
                    ["status": problem.status.code, "heading": Self.germanHeading(problem.status), "message": problem.detail],
                    identity: (context as? AppRequestContext)?.identity,
                    path: path,
                    status: problem.status
                )
            } else {
                response = try problem.response(from: request, context: context)
            }
            response.headers.append(contentsOf: headers)
            return response
        }
    }

    static func germanHeading(_ status: HTTPResponse.Status) -> String {
        switch status.code {
        case 400, 422: "Die Angaben sind nicht gültig"
        case 401: "Bitte melden Sie sich an"
        case 403: "Keine Berechtigung"
        case 404: "Seite nicht gefunden"
        case 409, 412: "Konflikt mit einer anderen Änderung"
        case 410: "Nicht mehr gültig"
        case 429: "Zu viele Versuche"
        default: "Ein Fehler ist aufgetreten"
        }
    }
}
