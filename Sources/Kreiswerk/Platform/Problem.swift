import Foundation
import Hummingbird
import Logging

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
        let body = Body(title: title, status: status.code, detail: detail, instance: request.uri.path, errors: errors)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Response(
            status: status,
            headers: [.contentType: "application/problem+json; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: try encoder.encode(body))))
    }
}

/// Turns every error into problem+json: a `Problem` as it is, Hummingbird's `HTTPError`s
/// with their status, and anything unexpected into a 500 whose details go to the log only.
public struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let problem as Problem {
            return try problem.response(from: request, context: context)
        } catch let error as HTTPError {
            let detail =
                error.body
                ?? (error.status == .notFound
                    ? "There is nothing at \(request.uri.path). Check the address."
                    : error.status == .methodNotAllowed ? "\(request.method) is not allowed on \(request.uri.path)." : error.status.reasonPhrase)
            var response = try Problem(error.status, detail: detail).response(from: request, context: context)
            response.headers.append(contentsOf: error.headers)
            return response
        } catch let error as any HTTPResponseError {
            return try Problem(error.status, detail: error.status.reasonPhrase).response(from: request, context: context)
        } catch {
            let reference = UUID().uuidString.prefix(8).lowercased()
            context.logger.error(
                "unhandled error", metadata: ["reference": "\(reference)", "path": "\(request.uri.path)", "error": "\(String(reflecting: error))"])
            return try Problem(
                .internalServerError,
                detail: "Something went wrong on our side. Nothing you did caused it. Please try again; if it keeps happening, give the operators the reference \(reference)."
            ).response(from: request, context: context)
        }
    }
}
